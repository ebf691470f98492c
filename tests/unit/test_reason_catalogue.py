"""Every reason code the source can answer is in ``domain.catalogue``, and every catalogued code is answered.

The source tree is read with ``ast``: a code is the code argument of a raise helper (``DomainError``,
``InfrastructureError``, ``Refusal``, the CLI's ``fail``, ``parse_json``, a ``reject``) or a string
compared with an error's ``.code``. A literal, a module-level constant (also one imported from another
module) and a member of a catalogued enum are resolved to their text; an expression that forwards a code
made elsewhere (``error.code``, ``decision.reason.name``, a parameter of the enclosing function, a
starred argument) is accepted, because it was checked where it was made; anything else fails, naming
file and line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pytest

from equitoken.adapters.chain.compiler import CONTRACTS_DIR
from equitoken.corporate_actions.voting import VoteReason
from equitoken.domain.catalogue import CATALOGUE, CONTRACT_ERROR_CODES, INFRASTRUCTURE_CODES, Kind, markdown
from equitoken.domain.errors import DomainError, InfrastructureError, UncataloguedCode
from equitoken.domain.reasons import Reason
from equitoken.issuance.models.base import ModelReason
from equitoken.issuance.reasons import OrderReason
from equitoken.ports.broker import RejectReason

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
TESTS = ROOT / "tests"
DOC = ROOT / "docs" / "reasons.md"

SINKS: dict[str, int] = {
    "DomainError": 0,
    "InfrastructureError": 0,
    "Refusal": 0,
    "fail": 0,  # cli.output.fail(code, message); only as a bare name (``f.fail(field, why)`` is not it)
    "parse_json": 2,  # app.files.parse_json(text, where, code)
    "problem": 0,  # api.problems.problem(code, detail): answers the framework's own errors
    "reject": -2,  # Order.reject(at, code, message) and the simulated broker's record.reject(code, why)
}
"""Callee name → position of its code argument."""

ENUMS: dict[str, type[Enum]] = {
    "Reason": Reason,
    "OrderReason": OrderReason,
    "ModelReason": ModelReason,
    "VoteReason": VoteReason,
    "RejectReason": RejectReason,
}

FORWARDED_LOCALS = {("equitoken/adapters/chain/facade/_reverts.py", "message")}
"""(file, variable) of codes read from outside and checked against the catalogue before they are raised."""

FORWARDING_ATTRIBUTES = ("code", "reason", "value", "name")
"""A trailing ``.code``, ``.reason.name``, ``.value``…: the code of an error, refusal or enum member."""

FOR_ADAPTERS = {
    "BROKER_UNAVAILABLE": "a real broker's link is down (the simulated broker has no link to lose)"
}
"""Codes a port promises its adapters that no bundled adapter raises; the tests' fakes raise them."""

CODE_TEXT = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Use:
    """One code the source names, and where."""

    code: str
    where: str


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A code argument the scan cannot read, and where."""

    expression: str
    where: str


def module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts)


def strings_of(node: ast.expr | None) -> frozenset[str] | None:
    """Return the text of a string literal, or of a set/tuple/list/frozenset of them; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return frozenset({node.value})
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("frozenset", "set")
    ):
        return strings_of(node.args[0]) if len(node.args) == 1 else None
    if isinstance(node, ast.Set | ast.Tuple | ast.List):
        found: set[str] = set()
        for element in node.elts:
            text = strings_of(element)
            if text is None:
                return None
            found |= text
        return frozenset(found)
    return None


class Tree:
    """The parsed modules of one tree, with their module-level string constants."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules = {
            module_name(path, root): (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
            for path in sorted(root.rglob("*.py"))
        }
        self.constants: dict[str, dict[str, frozenset[str]]] = {}
        for name, (_, tree) in self.modules.items():
            table: dict[str, frozenset[str]] = {}
            for statement in tree.body:
                target: ast.expr | None = None
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target = statement.targets[0]
                elif isinstance(statement, ast.AnnAssign):
                    target = statement.target
                value = (
                    strings_of(statement.value) if isinstance(statement, ast.Assign | ast.AnnAssign) else None
                )
                if isinstance(target, ast.Name) and value is not None:
                    table[target.id] = value
            self.constants[name] = table

    def constant(self, module: str, name: str) -> frozenset[str] | None:
        """Return the strings module-level ``name`` holds in ``module``, following ``from … import``."""
        found = self.constants.get(module, {}).get(name)
        if found is not None:
            return found
        _, tree = self.modules[module]
        for statement in tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
                for alias in statement.names:
                    if (alias.asname or alias.name) == name and statement.module in self.modules:
                        return self.constant(statement.module, alias.name)
        return None


def enum_member(node: ast.expr) -> str | None:
    """Return the code of ``Enum.MEMBER`` / ``Enum.MEMBER.value`` / ``Reason.MEMBER.name``, else None."""
    if isinstance(node, ast.Attribute) and node.attr in ("value", "name"):
        node = node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ENUMS:
        member = ENUMS[node.value.id][node.attr]
        return member.name if isinstance(member, Reason) else str(member.value)
    return None


def forwards(node: ast.expr) -> bool:
    """Tell whether ``node`` hands on a code made elsewhere (``error.code``, ``payload["code"]``…)."""
    if isinstance(node, ast.Attribute) and node.attr in FORWARDING_ATTRIBUTES:
        return True
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value in ("code", "reason_code")
    )


class Scan(ast.NodeVisitor):
    """Collect the codes of one module's raise helpers and code comparisons."""

    def __init__(self, tree: Tree, module: str, relative: str, sinks: dict[str, int]) -> None:
        self.tree, self.module, self.relative, self.sinks = tree, module, relative, sinks
        self.uses: list[Use] = []
        self.unresolved: list[Unresolved] = []
        self.parameters: list[set[str]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        arguments = node.args
        names = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
        self.parameters.append(names)
        self.generic_visit(node)
        self.parameters.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def where(self, node: ast.AST) -> str:
        return f"{self.relative}:{getattr(node, 'lineno', 0)}"

    def resolve(self, node: ast.expr) -> frozenset[str] | None:
        """Return the codes ``node`` stands for, or None when it forwards one (or cannot be read)."""
        text = strings_of(node)
        if text is not None:
            return text
        member = enum_member(node)
        if member is not None:
            return frozenset({member})
        if isinstance(node, ast.Name):
            return self.tree.constant(self.module, node.id)
        return None

    def accept(self, node: ast.expr) -> None:
        codes = self.resolve(node)
        if codes is not None:
            self.uses += [Use(code, self.where(node)) for code in codes]
            return
        if isinstance(node, ast.JoinedStr):
            self.unresolved.append(Unresolved("an f-string (a code is a fixed text)", self.where(node)))
        elif not (forwards(node) or self.forwarded_name(node)):
            self.unresolved.append(Unresolved(ast.unparse(node), self.where(node)))

    def forwarded_name(self, node: ast.expr) -> bool:
        """Tell whether ``node`` is a parameter of the enclosing function, or a local known to be checked."""
        if not isinstance(node, ast.Name):
            return False
        in_parameters = any(node.id in names for names in self.parameters)
        return in_parameters or (self.relative, node.id) in FORWARDED_LOCALS

    def visit_Call(self, node: ast.Call) -> None:
        callee = node.func
        name = (
            callee.id
            if isinstance(callee, ast.Name)
            else callee.attr
            if isinstance(callee, ast.Attribute)
            else ""
        )
        if name in self.sinks and not (name == "fail" and not isinstance(callee, ast.Name)):
            position = self.sinks[name]
            if any(isinstance(argument, ast.Starred) for argument in node.args):
                pass  # ``*stored.split(": ", 1)``: a code stored from an error, handed on
            elif -len(node.args) <= position < len(node.args):
                self.accept(node.args[position])
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        sides = [node.left, *node.comparators]
        if any(isinstance(side, ast.Attribute) and side.attr in ("code", "reason_code") for side in sides):
            for side in sides:
                codes = self.resolve(side)
                if codes is not None:
                    self.uses += [Use(code, self.where(side)) for code in codes if CODE_TEXT.match(code)]
        self.generic_visit(node)


def scan(root: Path, sinks: dict[str, int] = SINKS) -> tuple[list[Use], list[Unresolved]]:
    tree = Tree(root)
    uses: list[Use] = []
    unresolved: list[Unresolved] = []
    for module, (path, parsed) in tree.modules.items():
        if path == Path(__file__).resolve():
            continue  # this file raises uncatalogued codes on purpose
        visitor = Scan(tree, module, path.relative_to(root).as_posix(), sinks)
        visitor.visit(parsed)
        uses += visitor.uses
        unresolved += visitor.unresolved
    return uses, unresolved


@pytest.fixture(scope="module")
def source() -> tuple[list[Use], list[Unresolved]]:
    return scan(SRC)


def enum_codes() -> Iterator[tuple[type[Enum], str]]:
    for enum in ENUMS.values():
        for member in enum:
            if member is not Reason.OK:  # OK is a verdict, not a reason to refuse
                yield enum, member.name if isinstance(member, Reason) else str(member.value)


def test_the_scan_reads_the_tree(source: tuple[list[Use], list[Unresolved]]) -> None:
    uses, _ = source
    found = {use.code for use in uses}
    assert len(uses) > 400 and len(found) > 200  # it really walks every raise helper
    # a literal, an imported module constant, an enum member, a set compared with .code, a parse_json code
    assert {
        "INVALID_SETTING",
        "EVENT_MALFORMED",
        "WRONG_MODEL",
        "CAP_TABLE_DIVERGED",
        "INVALID_CASES",
    } <= found


def test_every_code_in_the_source_is_catalogued(source: tuple[list[Use], list[Unresolved]]) -> None:
    uses, unresolved = source
    missing = sorted(f"{use.where}: {use.code}" for use in uses if use.code not in CATALOGUE)
    assert not missing, "codes missing from domain/catalogue.py:\n" + "\n".join(missing)
    unread = sorted(f"{u.where}: {u.expression}" for u in unresolved)
    assert not unread, (
        "code arguments the scan cannot resolve (use a literal, a module constant or an enum member):\n"
        + "\n".join(unread)
    )


def test_every_catalogued_code_is_answered_somewhere(source: tuple[list[Use], list[Unresolved]]) -> None:
    uses, _ = source
    contracts = "\n".join(path.read_text(encoding="utf-8") for path in CONTRACTS_DIR.glob("*.vy"))
    used = {use.code for use in uses} | {code for _, code in enum_codes()}
    used |= {code for code in CONTRACT_ERROR_CODES if f'"{code}"' in contracts}
    dead = sorted(set(CATALOGUE) - used - set(FOR_ADAPTERS))
    assert not dead, "catalogued codes nothing raises (drop them, or raise them):\n" + "\n".join(dead)
    faked = {use.code for use in scan(TESTS, {"DomainError": 0})[0]}
    assert set(FOR_ADAPTERS) <= faked - used, "a code for adapters is raised in src now, or by no fake"


def test_the_tests_raise_and_expect_only_catalogued_codes() -> None:
    # A test that expects a misspelled or retired code would otherwise pass for the wrong reason. (A
    # test's Refusal or order.reject is data with a placeholder code, so only the errors count here.)
    uses, _ = scan(TESTS, {"DomainError": 0, "InfrastructureError": 0})
    missing = sorted(f"tests/{use.where}: {use.code}" for use in uses if use.code not in CATALOGUE)
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize(("enum", "code"), list(enum_codes()), ids=lambda v: getattr(v, "__name__", v))
def test_every_enum_member_is_a_catalogued_refusal(enum: type[Enum], code: str) -> None:
    assert code in CATALOGUE, f"{enum.__name__}: {code} is not in domain/catalogue.py"
    assert CATALOGUE[code].kind.is_refusal, f"{enum.__name__}.{code} is journaled as a refusal"


def test_the_contract_codes_are_refusals_and_none_is_a_rule_name() -> None:
    assert not CONTRACT_ERROR_CODES & set(Reason.__members__)
    odd = {c for c in CONTRACT_ERROR_CODES if not CATALOGUE[c].kind.is_refusal}
    assert odd == {"UNKNOWN_REASON"}  # the one unreachable branch


def test_each_entry_is_a_code_with_one_sentence() -> None:
    for code, entry in CATALOGUE.items():
        assert CODE_TEXT.match(code) and entry.code == code, code
        assert entry.sentence and not set(entry.sentence) & set("\n|"), code  # one line, one table cell
        assert not entry.sentence.endswith("."), code


def test_infrastructure_codes_are_the_catalogues_infrastructure_kind() -> None:
    assert {c for c, e in CATALOGUE.items() if e.kind is Kind.INFRASTRUCTURE} == INFRASTRUCTURE_CODES
    assert "STORE_UNAVAILABLE" in INFRASTRUCTURE_CODES
    for code in INFRASTRUCTURE_CODES:
        error = DomainError(code, "down")
        assert isinstance(error, InfrastructureError) and error.kind is Kind.INFRASTRUCTURE
        assert error.kind.status == 503 and not error.kind.is_refusal
    refusal = DomainError("STALE_PRICE", "old")
    assert type(refusal) is DomainError and refusal.kind is Kind.REFUSED and refusal.kind.status == 422


def test_each_kind_has_its_status() -> None:
    assert {kind: kind.status for kind in Kind} == {
        Kind.INVALID: 400,
        Kind.REFUSED: 422,
        Kind.NOT_FOUND: 404,
        Kind.CONFLICT: 409,
        Kind.UNAUTHENTICATED: 401,
        Kind.FORBIDDEN: 403,
        Kind.THROTTLED: 429,
        Kind.INTERNAL: 500,
        Kind.INFRASTRUCTURE: 503,
    }


def test_an_uncatalogued_code_is_refused_while_the_suite_requires_it() -> None:
    # tests/conftest.py turns the check on for the whole run.
    with pytest.raises(UncataloguedCode, match="NOT_A_REAL_CODE"):
        DomainError("NOT_A_REAL_CODE", "whatever")


def test_an_uncatalogued_code_still_reaches_the_caller_in_a_running_platform() -> None:
    from equitoken.domain import errors

    errors.require_catalogued_codes(False)
    try:
        error = DomainError("VENDOR_SPECIFIC", "a third-party adapter's own code")
    finally:
        errors.require_catalogued_codes(True)
    assert error.code == "VENDOR_SPECIFIC" and error.kind is Kind.REFUSED


def test_the_reasons_page_lists_the_catalogue() -> None:
    page = DOC.read_text(encoding="utf-8")
    begin, end = "<!-- catalogue:begin -->\n", "<!-- catalogue:end -->"
    assert begin in page and end in page
    generated = page.split(begin, 1)[1].split(end, 1)[0]
    assert generated == markdown(), "docs/reasons.md is stale: run python3 scripts/reasons-doc.py"
