"""Runbooks cannot rot: every project command in their shell blocks must exist and accept
its flags, every AWS CLI command must name a real operation and parameters, and each
runbook keeps the sections on-call relies on.

- `python -m chaos|service|infra.plan|policies ...`: the subcommand is run with `--help`
  appended; it must exit 0 and its help must list every flag the runbook passes.
- `make TARGET ...`: TARGET must be a rule in the Makefile (parsed, not run: `make -n`
  would run prerequisites).
- `aws SERVICE OPERATION --param ...`: checked against botocore's service models (the same
  models the AWS CLI is generated from).
"""

from __future__ import annotations

import functools
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name
from botocore.model import OperationModel

ROOT = Path(__file__).resolve().parents[1]
RUNBOOKS = ROOT / "runbooks"
FENCE = re.compile(r"^```(bash|sh|console)[^\n]*\n(.*?)^```", re.M | re.S)
PROJECT_MODULES = ("chaos", "service", "infra.plan", "policies")
PYTHONS = ("python", "python3", ".venv/bin/python", "./.venv/bin/python")
SEPARATOR_CHARS = set("();<>|&")
REQUIRED_SECTIONS = (
    "When to use it",
    "Pre-checks",
    "Commands",
    "What to watch",
    "Expected timings (latest local drill)",
    "Rollback",
    "Post-drill checklist",
)
# AWS CLI options that belong to the CLI, not to the operation.
AWS_GLOBAL_OPTIONS = {
    "--region", "--profile", "--output", "--query", "--no-cli-pager", "--endpoint-url",
    "--cli-input-json", "--debug", "--no-paginate", "--color",
}
AWS_CLI_CUSTOM = {("eks", "update-kubeconfig"), ("eks", "get-token")}


@dataclass(frozen=True)
class Command:
    runbook: str
    text: str
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.runbook}: {self.text}"


def shell_blocks(path: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(path.read_text())]


def logical_lines(kind: str, body: str) -> list[str]:
    lines: list[str] = []
    for raw in body.splitlines():
        line = raw.rstrip()
        if kind == "console":
            if not line.startswith("$ ") and not (lines and lines[-1].endswith("\\")):
                continue  # console output
            line = line.removeprefix("$ ")
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + line.strip()
        else:
            lines.append(line)
    return [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def simple_commands(line: str) -> list[list[str]]:
    """Split a shell line into simple commands (pipes, lists, subshells, substitutions)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token and set(token) <= SEPARATOR_CHARS:
            commands.append([])
        elif token.endswith("$") and len(token) > 1 and "=" in token:
            commands[-1].append(token[:-1])  # VAR=$(...): the substitution follows
            commands.append([])
        else:
            commands[-1].append(token)
    result = []
    for tokens in commands:
        argv = tokens
        while argv and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", argv[0]):
            argv = argv[1:]  # environment assignments before the command
        if argv and argv[0] in ("env", "time", "sudo", "exec"):
            argv = argv[1:]
        if argv:
            result.append(argv)
    return result


def collect() -> list[Command]:
    found: list[Command] = []
    for path in sorted(RUNBOOKS.glob("*.md")):
        for kind, body in shell_blocks(path):
            for line in logical_lines(kind, body):
                for argv in simple_commands(line):
                    found.append(Command(path.name, " ".join(argv), tuple(argv)))
    return list(dict.fromkeys(found))  # a command repeated in one runbook is checked once


COMMANDS = collect()


def python_module(argv: tuple[str, ...]) -> str | None:
    if len(argv) >= 3 and argv[0] in PYTHONS and argv[1] == "-m":
        module = argv[2]
        if any(module == m or module.startswith(m + ".") for m in PROJECT_MODULES):
            return module
    return None


def python_commands() -> list[Command]:
    return [c for c in COMMANDS if python_module(c.argv)]


def make_commands() -> list[Command]:
    return [c for c in COMMANDS if c.argv[0] == "make"]


def aws_commands() -> list[Command]:
    return [c for c in COMMANDS if c.argv[0] == "aws"]


def flags_of(args: tuple[str, ...]) -> list[str]:
    return [a.split("=", 1)[0] for a in args if a.startswith("-") and a not in ("-", "--")]


def split_subcommand(args: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Leading words (the subcommand path) and the rest."""
    for i, arg in enumerate(args):
        if arg.startswith("-"):
            return args[:i], args[i:]
    return args, ()


@functools.cache
def help_text(module: str, path: tuple[str, ...]) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", module, *path, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


@functools.cache
def make_targets() -> frozenset[str]:
    targets: set[str] = set()
    for line in (ROOT / "Makefile").read_text().splitlines():
        m = re.match(r"^([^\s:=#][^:=#]*?)\s*:(?![=:])", line)
        if m and not line.startswith("\t"):
            targets.update(t for t in m.group(1).split() if not t.startswith("."))
    return frozenset(targets)


@functools.cache
def aws_model(service: str) -> tuple[dict[str, OperationModel], list[str]]:
    session = botocore.session.get_session()
    model = session.get_service_model(service)
    ops = {xform_name(op, "-"): model.operation_model(op) for op in model.operation_names}
    try:
        waiters = session.get_waiter_model(service).waiter_names
    except Exception:  # a service without waiters
        waiters = []
    return ops, [xform_name(w, "-") for w in waiters]


def aws_parameter_flags(operation: OperationModel) -> set[str]:
    shape = operation.input_shape
    flags: set[str] = set()
    for name, member in (shape.members.items() if shape is not None else []):
        flag = "--" + xform_name(name, "-")
        flags.add(flag)
        if member.type_name == "boolean":
            flags.add("--no-" + xform_name(name, "-"))
    return flags


# -- tests ---------------------------------------------------------------------------------
def test_runbooks_exist_and_name_project_commands() -> None:
    books = sorted(p.name for p in RUNBOOKS.glob("*.md"))
    assert "README.md" in books
    assert len(books) >= 13, books
    assert python_commands() and make_commands() and aws_commands()


@pytest.mark.parametrize("command", python_commands(), ids=str)
def test_python_command_exists_and_accepts_its_flags(command: Command) -> None:
    module = python_module(command.argv)
    assert module is not None
    path, rest = split_subcommand(command.argv[3:])
    code, text = help_text(module, path)
    assert code == 0, f"`python -m {module} {' '.join(path)} --help` exited {code}:\n{text}"
    missing = [
        f for f in flags_of(rest) if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", text)
    ]
    assert not missing, f"{command}: flags not in the help text: {missing}"


@pytest.mark.parametrize("command", make_commands(), ids=str)
def test_make_target_exists(command: Command) -> None:
    targets = [a for a in command.argv[1:] if not a.startswith("-") and "=" not in a]
    assert targets, f"{command}: no target (the default goal is not a runbook step)"
    missing = [t for t in targets if t not in make_targets()]
    assert not missing, f"{command}: no such Makefile target: {missing}"


@pytest.mark.parametrize("command", aws_commands(), ids=str)
def test_aws_cli_command_names_a_real_operation(command: Command) -> None:
    words, rest = split_subcommand(command.argv[1:])
    assert len(words) >= 2, f"{command}: expected `aws SERVICE OPERATION`"
    service, operation = words[0], words[1]
    if (service, operation) in AWS_CLI_CUSTOM:
        return
    ops, waiters = aws_model(service)
    if operation == "wait":
        assert len(words) >= 3 and words[2] in waiters, f"{command}: unknown waiter"
        return
    assert operation in ops, f"{command}: {service} has no operation {operation}"
    allowed = aws_parameter_flags(ops[operation]) | AWS_GLOBAL_OPTIONS
    unknown = [f for f in flags_of(rest) if f not in allowed]
    assert not unknown, f"{command}: unknown parameters {unknown}"


@pytest.mark.parametrize(
    "path", sorted(p for p in RUNBOOKS.glob("*.md") if p.name != "README.md"), ids=str
)
def test_runbook_has_the_standard_sections(path: Path) -> None:
    text = path.read_text()
    headings = re.findall(r"^##+ (.+?)\s*$", text, re.M)
    missing = [s for s in REQUIRED_SECTIONS if not any(h.startswith(s) for h in headings)]
    assert not missing, f"{path.name}: missing sections {missing}"
    assert shell_blocks(path), f"{path.name}: no ```bash block"


def test_readme_indexes_every_runbook() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    for path in RUNBOOKS.glob("*.md"):
        if path.name != "README.md":
            assert f"({path.name})" in index, f"runbooks/README.md does not link {path.name}"


def test_command_parser_understands_shell_forms() -> None:
    assert simple_commands("A=1 python -m chaos drill --scenario x | tee out && make drill") == [
        ["python", "-m", "chaos", "drill", "--scenario", "x"], ["tee", "out"], ["make", "drill"]
    ]
    assert simple_commands('W=$(aws rds describe-db-clusters --query "A[0].B")') == [
        ["aws", "rds", "describe-db-clusters", "--query", "A[0].B"]
    ]
    assert logical_lines("console", "$ make stack-up \\\n  SCENARIO=x\noutput line\n") == [
        "make stack-up  SCENARIO=x"
    ]
    assert split_subcommand(("audit", "verify", "--x", "y")) == (("audit", "verify"), ("--x", "y"))
