"""Static cost of a GraphQL operation, computed from its AST and the schema before it runs.

The model follows GitHub's node limit and Shopify's calculated query cost, simplified:

* every field costs 1, introspection included (aliases too: each alias is a selection). An
  introspection entry point (``__schema``, ``__type``) costs :data:`INTROSPECTION_ENTRY_COST`
  more, since it stands for a walk over the schema, and lists below it count once (their
  length is the schema's, not the caller's to choose): the standard introspection query costs
  about 230, thirty aliased ``__schema`` selections at least 360. Only ``__typename`` is free
  (clients add it to every selection, and it answers a name already at hand);
* a field that returns many things multiplies the cost of its sub-selection by how many it may
  return: the ``first`` / ``last`` / ``limit`` argument, else the length of a list argument
  that names the items (``candidates``, ``creatorIds``, ``events``), else the argument's schema
  default, else :data:`DEFAULT_LIST_SIZE` for a list of objects;
* a sized field that is not itself a list (a Relay connection such as ``mySegments(first:)``)
  passes its size to the ``edges`` / ``nodes`` lists directly below it instead of letting them
  multiply again by the default;
* a leaf list sized by an argument (``reorderDiscoveryQueue(creatorIds:)``) costs one per item.

Fragments are expanded (each spread counts every time it is used), variables are read from the
request, ``@skip`` / ``@include`` are honoured. Fragment costs are memoised, so the analysis is
linear in the document even when fragments spread each other many times over: it doubles as the
guard against "fragment bombs" whose expansion is exponential in the document's size.

The analysis never raises on a document that has not been validated yet: unknown fields cost 1,
unknown fragments and fragment cycles cost nothing (validation rejects both anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    Undefined,
    get_named_type,
    get_nullable_type,
    is_composite_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.language import ValueNode, VariableNode

#: how many items a list of objects is assumed to hold when nothing in the query says
DEFAULT_LIST_SIZE = 10
#: arguments that bound how many items a field returns, in order of precedence
SIZE_ARGUMENTS = ("first", "last", "limit")
#: list arguments whose length is the number of items the field returns
LIST_ARGUMENTS = ("candidates", "creatorIds", "events")
#: the one field that costs nothing: it answers a type name already at hand
_FREE_FIELDS = frozenset({"__typename"})
#: what an introspection entry point costs on top of its selections
INTROSPECTION_ENTRY_COST = 10
#: introspection entry points, valid on the query root only (they are in no type's fields)
_META_FIELDS: Mapping[str, GraphQLField] = {"__schema": SchemaMetaFieldDef,
                                            "__type": TypeMetaFieldDef}


@dataclass(frozen=True)
class QueryCost:
    """The requested cost, and how many field selections the expanded document has."""

    cost: int
    fields: int


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    default_list_size: int
    memo: dict[tuple[str, str, bool], tuple[int, int]] = field(default_factory=dict)
    visiting: set[str] = field(default_factory=set)

    def selection_set(self, node: SelectionSetNode | None, parent: Any, sized_parent: bool
                      ) -> tuple[int, int]:
        """(cost, expanded field count) of a selection set on ``parent`` (None if unknown)."""
        if node is None:
            return 0, 0
        cost = fields = 0
        for selection in node.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                c, f = self.field(selection, parent, sized_parent)
            elif isinstance(selection, InlineFragmentNode):
                target = self._type(selection.type_condition.name.value
                                    if selection.type_condition else None, parent)
                c, f = self.selection_set(selection.selection_set, target, sized_parent)
            elif isinstance(selection, FragmentSpreadNode):
                c, f = self.spread(selection.name.value, sized_parent)
            else:  # pragma: no cover - graphql-core has no other selection kinds
                continue
            cost += c
            fields += f
        return cost, fields

    def spread(self, name: str, sized_parent: bool) -> tuple[int, int]:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.visiting:
            return 0, 0
        target = self._type(fragment.type_condition.name.value, None)
        key = (name, getattr(target, "name", ""), sized_parent)
        if key not in self.memo:
            self.visiting.add(name)
            try:
                self.memo[key] = self.selection_set(fragment.selection_set, target, sized_parent)
            finally:
                self.visiting.discard(name)
        return self.memo[key]

    def field(self, node: FieldNode, parent: Any, sized_parent: bool) -> tuple[int, int]:
        name = node.name.value
        if name in _FREE_FIELDS:
            return 0, 1
        definition = _META_FIELDS.get(name) or self._field_definition(parent, name)
        return_type = definition.type if definition is not None else None
        nullable = get_nullable_type(return_type) if return_type is not None else None
        is_list = nullable is not None and is_list_type(nullable)
        named = get_named_type(return_type) if return_type is not None else None

        size = self._size_from_arguments(node, definition)
        if named is not None and named.name.startswith("__"):
            # the schema's own lists: as long as the schema, counted once (see module doc)
            multiplier, sized_here = 1, False
        elif size is not None:
            multiplier, sized_here = size, True
        elif is_list and named is not None and is_composite_type(named):
            # the edges / nodes of a connection that was sized one level up hold that many
            multiplier, sized_here = (1 if sized_parent else self.default_list_size), False
        else:
            multiplier, sized_here = 1, False

        child_cost, child_fields = self.selection_set(
            node.selection_set, named if is_composite_type(named) else None,
            sized_parent=sized_here and not is_list)
        if node.selection_set is None and sized_here:
            child_cost = 1  # a leaf list sized by an argument: one unit per item
        entry = INTROSPECTION_ENTRY_COST if name in _META_FIELDS else 0
        return 1 + entry + multiplier * child_cost, 1 + child_fields

    def _size_from_arguments(self, node: FieldNode, definition: GraphQLField | None
                             ) -> int | None:
        for name in SIZE_ARGUMENTS:
            value = self._argument(node, definition, name)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, 0)
        for name in LIST_ARGUMENTS:
            value = self._argument(node, definition, name)
            if isinstance(value, list):
                return len(value)
            if value is not None:
                return 1  # GraphQL coerces a single value into a one-element list
        return None

    def _argument(self, node: FieldNode, definition: GraphQLField | None, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return self._value(argument.value)
        if definition is not None and name in definition.args:
            return _schema_default(definition.args[name])
        return None

    def _value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        try:
            return value_from_ast_untyped(node, dict(self.variables))
        except Exception:  # an odd literal in a not yet validated document: no size
            return None

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            condition = None
            for argument in directive.arguments or ():
                if argument.name.value == "if":
                    condition = self._value(argument.value)
            if name == "skip" and condition is True:
                return False
            if name == "include" and condition is False:
                return False
        return True

    def _type(self, name: str | None, fallback: Any) -> Any:
        if name is None:
            return fallback
        return self.schema.get_type(name)

    @staticmethod
    def _field_definition(parent: Any, name: str) -> GraphQLField | None:
        if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return parent.fields.get(name)
        return None


def _schema_default(argument: GraphQLArgument) -> Any:
    """An argument's default from the schema, whichever way it was declared: code-first
    schemas (strawberry) set ``default_value``, SDL ones keep the literal in ``default``."""
    if isinstance(argument.default_value, (int, list)):
        return argument.default_value
    default = getattr(argument, "default", None)  # graphql-core 3.3's GraphQLDefaultInput
    if default is None:
        return None
    value = getattr(default, "value", Undefined)
    if value is not Undefined:
        return value
    literal = getattr(default, "literal", None)
    return value_from_ast_untyped(literal) if literal is not None else None


def select_operation(document: DocumentNode, operation_name: str | None
                     ) -> OperationDefinitionNode | None:
    """The operation a request runs: the named one, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations
                 if op.name is not None and op.name.value == operation_name), None)


def query_cost(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None = None,
               variables: Mapping[str, Any] | None = None, *,
               default_list_size: int = DEFAULT_LIST_SIZE) -> QueryCost:
    """The static cost of the operation a request would run (zero when there is none)."""
    operation = select_operation(document, operation_name)
    if operation is None:
        return QueryCost(cost=0, fields=0)
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    # variables the request left out take the operation's declared defaults
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None:
            try:
                values[definition.variable.name.value] = value_from_ast_untyped(
                    definition.default_value)
            except Exception:
                pass
    values.update(variables or {})
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }.get(operation.operation)
    walk = _Walk(schema=schema, fragments=fragments, variables=values,
                 default_list_size=default_list_size)
    cost, fields = walk.selection_set(operation.selection_set, root, sized_parent=False)
    return QueryCost(cost=cost, fields=fields)
