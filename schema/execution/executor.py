"""strawberry's executor, with objects completed by compiled plans (schema/execution/compiler.py).

graphql-core still runs the operation: root fields, every field with a resolver (the pages of a
category, videoCount, node), abstract types, errors and their propagation above a plan. Where it
would complete an object whose whole selection is plain data, a compiled function does it instead.

Plans are cached across requests, keyed by the identity of the document's field nodes (strawberry's
parser cache hands back the same document for the same text) and by the values of the variables
that @skip/@include read, the only inputs besides the document that decide what is collected.
A cached plan holds on to its operation and fragments, so the node ids in its key stay theirs.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from threading import Lock
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLObjectType,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.executor import CollectedErrors
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.execution.compiler import Completer, NotCompilable, compile_selection

log = logging.getLogger("videolib.execution")

# Plans per process. A plan is code: bounded like strawberry's parser and validation caches
# (256 documents), a few plans each, so that a stream of distinct documents cannot grow memory.
PLAN_CACHE_SIZE = 1024


class _DirectiveVariables(Visitor):
    """Names of the variables that @skip/@include read."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: Any, *_: Any) -> None:
        if node.name.value in ("skip", "include"):
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    self.names.add(argument.value.name.value)


class PlanCache:
    """Compiled selections (or None: not compilable), least recently used evicted first."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self.size = size
        self.plans: OrderedDict[tuple[Any, ...], tuple[Completer | None, tuple[Any, ...]]] = OrderedDict()
        self.directive_variables: dict[int, tuple[tuple[str, ...], Any]] = {}
        self.lock = Lock()  # `serve --workers N` forks processes, but a test may share an app across threads
        self.compiled = 0
        self.fallbacks = 0

    def variables_of(self, operation: OperationDefinitionNode, fragments: dict[str, Any]) -> tuple[str, ...]:
        found = self.directive_variables.get(id(operation))
        if found is not None and found[1] is operation:
            return found[0]
        visitor = _DirectiveVariables()
        visit(DocumentNode(definitions=(operation, *fragments.values())), visitor)
        names = tuple(sorted(visitor.names))
        with self.lock:
            if len(self.directive_variables) >= self.size:
                self.directive_variables.clear()
            self.directive_variables[id(operation)] = (names, operation)
        return names

    def get(self, key: tuple[Any, ...]) -> tuple[Completer | None, tuple[Any, ...]] | None:
        with self.lock:
            found = self.plans.get(key)
            if found is not None:
                self.plans.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], plan: Completer | None, keep_alive: tuple[Any, ...]) -> None:
        with self.lock:
            self.plans[key] = (plan, keep_alive)
            if plan is None:
                self.fallbacks += 1
            else:
                self.compiled += 1
            while len(self.plans) > self.size:
                self.plans.popitem(last=False)


PLANS = PlanCache()


class CompiledExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Completes plain-data objects with cached compiled plans; everything else as strawberry does."""

    plans: PlanCache = PLANS
    enabled = True  # tests/test_compiled_differential.py answers each request with and without

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Plans apply only where they cannot differ: no middleware wrapping resolvers, and null
        # propagation on (graphql-core's experimental directive turns it off).
        manager = self.middleware_manager
        self._use_plans = self.enabled and self.error_propagation and not (manager and manager.middlewares)
        self._request_plans: dict[tuple[GraphQLObjectType, int], tuple[Completer | None, Any]] = {}

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: list[FieldDetails],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if self._use_plans:
            plan = self._plan(return_type, field_details_list)
            if plan is not None:
                if VERIFY.mismatches is not None:
                    return self._verified(plan, return_type, field_details_list, path, result)
                return plan(self, result, path)
        return super().collect_and_execute_subfields(
            return_type, field_details_list, path, result, position_context
        )

    def _verified(
        self,
        plan: Completer,
        return_type: GraphQLObjectType,
        fdl: list[FieldDetails],
        path: Path,
        result: Any,
    ) -> Any:
        """The plan's answer, after checking it against graphql-core's on the same value.

        A plan only ever completes plain data (attribute reads, no resolver), so running both is
        free of side effects and both are synchronous. Each runs with its own error list; the
        plan's errors then join the request's."""
        outcomes = [
            self._run_alone(plan, compiled, return_type, fdl, path, result) for compiled in (True, False)
        ]
        mismatches = VERIFY.mismatches
        if mismatches is not None and outcomes[0][0] != outcomes[1][0]:
            mismatches.append(
                f"{return_type.name} at {path.as_list()}:\n  compiled: {outcomes[0][0]}\n"
                f"  standard: {outcomes[1][0]}\n  plan:\n{plan.__doc__}"
            )
        (value, _, _), own, raised = outcomes[0]
        for error, error_path in zip(own.errors, own.positions, strict=True):
            self.collected_errors.add(error, error_path)
        if raised is not None:
            raise raised
        return value

    def _run_alone(
        self,
        plan: Completer,
        compiled: bool,
        return_type: GraphQLObjectType,
        fdl: list[FieldDetails],
        path: Path,
        result: Any,
    ) -> tuple[tuple[Any, Any, list[Any]], RecordingErrors, GraphQLError | None]:
        """One completion, with its own error list: (value, raised, errors) described, the errors,
        what it raised."""
        errors, own = self.collected_errors, RecordingErrors()
        self.collected_errors = own
        self._use_plans = compiled  # graphql-core's run completes nested objects itself too
        value: Any = None
        raised: GraphQLError | None = None
        try:
            if compiled:
                value = plan(self, result, path)
            else:
                value = super().collect_and_execute_subfields(return_type, fdl, path, result, None)
        except GraphQLError as error:
            raised = error
        finally:
            self._use_plans = True
            self.collected_errors = errors
        return (value, _described(raised), [_described(e) for e in own.errors]), own, raised

    def _plan(self, return_type: GraphQLObjectType, fdl: list[FieldDetails]) -> Completer | None:
        # A list of 500 videos asks 500 times with the same field list: one look-up per request.
        local_key = (return_type, id(fdl))
        local = self._request_plans.get(local_key)
        if local is not None:
            return local[0]
        plan = self._shared_plan(return_type, fdl)
        self._request_plans[local_key] = (plan, fdl)
        return plan

    def _shared_plan(self, return_type: GraphQLObjectType, fdl: list[FieldDetails]) -> Completer | None:
        names = self.plans.variables_of(self.operation, self.fragment_definitions)
        coerced = self.variable_values.coerced
        key = (
            return_type.name,
            id(self.operation),
            tuple(id(d.node) for d in fdl),
            tuple(_hashable(coerced.get(name)) for name in names),
        )
        found = self.plans.get(key)
        if found is not None and found[1][0] is self.operation:
            return found[0]
        try:
            plan: Completer | None = compile_selection(
                self, return_type, fdl, keep_source=VERIFY.mismatches is not None
            )
        except NotCompilable as reason:
            log.debug("standard executor for %s: %s", return_type.name, reason)
            plan = None
        self.plans.put(key, plan, (self.operation, self.fragment_definitions, fdl))
        return plan


class _Verification:
    """Test-only: when `mismatches` is a list, every compiled completion is also done by
    graphql-core, and any difference is appended (tests/conftest.py turns it on for the suite)."""

    mismatches: list[str] | None = None


VERIFY = _Verification()


class RecordingErrors(CollectedErrors):
    """CollectedErrors that also remember each kept error's position, to hand them on in order."""

    def __init__(self) -> None:
        super().__init__()
        self.positions: list[Path | None] = []

    def add(self, error: GraphQLError, path: Path | None) -> None:
        before = len(self.errors)
        super().add(error, path)
        if len(self.errors) > before:
            self.positions.append(path)


def _described(error: GraphQLError | None) -> Any:
    if error is None:
        return None
    return (error.message, error.path, [(loc.line, loc.column) for loc in error.locations or ()])


def _hashable(value: Any) -> Any:
    # @skip/@include take a Boolean!; anything else only has to tell values apart.
    return value if isinstance(value, bool | int | str | None) else repr(value)
