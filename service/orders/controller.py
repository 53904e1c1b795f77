"""The order endpoints: parse the HTTP request, hand the use case to `OrderService`,
shape the HTTP answer. Dependencies (the principal, the service) are declared once, on
the controller; handlers never reach into the application state."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, route
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.enums import HttpMethod
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from service.api.guards import provide_principal
from service.api.openapi import (
    CANCEL_PROBLEMS,
    LIST_PROBLEMS,
    ORDER_REQUEST_SCHEMA,
    PLACE_PROBLEMS,
    PLACED_HEADERS,
    READ_PROBLEMS,
    documented,
    order_links,
)
from service.api.schemas import AuditTrail, CreateOrderRequest, OrderPage, OrderView
from service.auth import Principal
from service.domain.states import OrderStatus
from service.orders.inputs import parse_idempotency_key
from service.orders.service import OrderService, PlaceOrder

JSON = "application/json"


def provide_order_service(state: State, principal: NamedDependency[Principal]) -> OrderService:
    return OrderService(state.orders, principal)


def placed_response(
    body: bytes, status_code: int, order_id: uuid.UUID, *, replayed: bool
) -> Response[bytes]:
    headers = {"Location": f"/v1/orders/{order_id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(content=body, status_code=status_code, media_type=JSON, headers=headers)


class OrderController(Controller):
    path = "/v1/orders"
    dependencies = {
        "principal": Provide(provide_principal),
        "orders": Provide(provide_order_service, sync_to_thread=False),
    }

    @route("/", http_method=HttpMethod.OPTIONS, include_in_schema=False, sync_to_thread=False)
    def allow_options(self, request: Request[Any, Any, Any]) -> Response[None]:
        """Litestar builds the automatic OPTIONS answer with the first handler registered
        for a path, so one of GET and POST /v1/orders was missing from its Allow header.
        The name matters: a controller's handlers are registered sorted by name, and this
        one must come before `list_orders` and `place_order` (a test checks the header)."""
        methods = request.app.route_handler_method_map.get("/v1/orders", {})
        return Response(None, status_code=204, headers={"Allow": ", ".join(sorted(methods))})

    @post(
        "/",
        status_code=201,
        operation_id="placeOrder",
        summary="Place an order (idempotent per Idempotency-Key)",
        responses={
            201: ResponseSpec(OrderView, description="The order (also for a retried key)")
        },
        operation_class=documented(
            problems=PLACE_PROBLEMS, success=201, links=order_links(),
            success_headers=PLACED_HEADERS, required_headers=frozenset({"Idempotency-Key"}),
            request_schema=ORDER_REQUEST_SCHEMA,
        ),
    )
    async def place_order(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CreateOrderRequest],
        orders: NamedDependency[OrderService],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key", required=False, description="8-128 of [A-Za-z0-9._:-]"
            ),
        ] = None,
    ) -> Response[bytes]:
        key = parse_idempotency_key(idempotency_key)
        result = await orders.place(PlaceOrder(
            key=key, data=data,
            # The body as sent (already decoded by the request class), never the struct.
            body=await request.json(),
            request_id=request.scope["state"]["request_id"],
        ))
        return placed_response(
            result.body, result.status_code, result.order_id, replayed=result.replayed
        )

    @get(
        "/{order_id:uuid}", operation_id="readOrder", summary="Read one order",
        operation_class=documented(problems=READ_PROBLEMS),
    )
    async def read_order(
        self, order_id: FromPath[uuid.UUID], orders: NamedDependency[OrderService]
    ) -> OrderView:
        return await orders.read(order_id)

    @get(
        "/", operation_id="listOrders", summary="List orders, newest first (keyset pagination)",
        operation_class=documented(problems=LIST_PROBLEMS),
    )
    async def list_orders(
        self,
        orders: NamedDependency[OrderService],
        account_id: Annotated[str | None, QueryParameter()] = None,
        status: Annotated[OrderStatus | None, QueryParameter()] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, QueryParameter()] = None,
    ) -> OrderPage:
        return await orders.page(account_id=account_id, status=status, limit=limit, cursor=cursor)

    @post(
        "/{order_id:uuid}/cancel", status_code=200, operation_id="cancelOrder",
        summary="Cancel an order (idempotent; only from PENDING, SUBMITTED, PARTIALLY_FILLED)",
        operation_class=documented(problems=CANCEL_PROBLEMS),
    )
    async def cancel_order(
        self, order_id: FromPath[uuid.UUID], orders: NamedDependency[OrderService]
    ) -> OrderView:
        return await orders.cancel(order_id)

    @get(
        "/{order_id:uuid}/events", operation_id="orderEvents",
        summary="The order's audit trail, as an account holder may see it",
        operation_class=documented(problems=READ_PROBLEMS),
    )
    async def order_events(
        self, order_id: FromPath[uuid.UUID], orders: NamedDependency[OrderService]
    ) -> AuditTrail:
        return await orders.events(order_id)


ORDER_HANDLERS: list[ControllerRouterHandler] = [OrderController]
