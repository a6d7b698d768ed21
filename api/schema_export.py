"""The schema as files: ``schema.graphql`` (SDL) and ``docs/api-reference.md``, both generated.

``make schema`` (``python -m api.schema_export``) rewrites them after a schema change; a test
fails while either differs from what the code's schema prints, so they never drift.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
)

from resolvers.root import build_schema

ROOT = Path(__file__).resolve().parent.parent
SDL_PATH = ROOT / "schema.graphql"
REFERENCE_PATH = ROOT / "docs" / "api-reference.md"


def schema_sdl() -> str:
    """The SDL the server answers at ``GET /schema.graphql``."""
    return build_schema().as_str() + "\n"


_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def _one_line(text: str | None) -> str:
    # links dropped to their text: the reference never points outside the repository
    return _LINK.sub(r"\1", " ".join((text or "").split())).replace("|", "\\|")


def _fields(fields: dict[str, GraphQLField] | dict[str, GraphQLInputField]) -> list[str]:
    rows = ["| field | type | description |", "|---|---|---|"]
    for name, item in fields.items():
        args = getattr(item, "args", None) or {}
        signature = name
        if args:
            signature += "(" + ", ".join(_arg(n, a) for n, a in args.items()) + ")"
        note = _one_line(item.description)
        reason = getattr(item, "deprecation_reason", None)
        if reason:
            note += f" **Deprecated:** {_one_line(reason)}"
        rows.append(f"| `{signature}` | `{item.type}` | {note} |")
    return rows


def _arg(name: str, arg: GraphQLArgument) -> str:
    return f"{name}: {arg.type}"


def _section(named: GraphQLNamedType) -> list[str]:
    lines = [f"### {named.name}", ""]
    if named.description:
        lines += [_one_line(named.description), ""]
    if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
        lines += _fields(named.fields)
    elif isinstance(named, GraphQLEnumType):
        lines += ["| value | description |", "|---|---|"]
        lines += [f"| `{n}` | {_one_line(v.description)} |" for n, v in named.values.items()]
    elif isinstance(named, GraphQLUnionType):
        lines.append("One of: " + ", ".join(f"`{t.name}`" for t in named.types))
    return lines + [""]


def api_reference(schema: GraphQLSchema | None = None) -> str:
    """Markdown: the root operations first, then every type by kind, names sorted."""
    graphql_schema = schema or build_schema()._schema
    roots = [t for t in (graphql_schema.query_type, graphql_schema.mutation_type,
                         graphql_schema.subscription_type) if t is not None]
    named = [t for n, t in sorted(graphql_schema.type_map.items())
             if not n.startswith("__") and t not in roots]
    kinds: list[tuple[str, type[GraphQLNamedType]]] = [
        ("Object types", GraphQLObjectType), ("Interfaces", GraphQLInterfaceType),
        ("Unions", GraphQLUnionType), ("Input types", GraphQLInputObjectType),
        ("Enums", GraphQLEnumType), ("Scalars", GraphQLScalarType)]
    lines = ["# API reference", "",
             "Generated from the schema by `make schema` (`python -m api.schema_export`); "
             "do not edit by hand. The same schema in SDL is [`schema.graphql`](../schema.graphql) "
             "and `GET /schema.graphql` on a running server. How to call it from clients: "
             "[clients.md](clients.md).", "", "## Operations", ""]
    for root in roots:
        lines += _section(root)
    for title, kind in kinds:
        members = [t for t in named if isinstance(t, kind)]
        if members:
            lines += [f"## {title}", ""]
            for member in members:
                lines += _section(member)
    return "\n".join(lines).rstrip() + "\n"


def generated() -> dict[Path, str]:
    return {SDL_PATH: schema_sdl(), REFERENCE_PATH: api_reference()}


def main() -> int:
    for path, text in generated().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
