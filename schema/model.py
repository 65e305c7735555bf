"""The domain model of pressure-graph, declared once as data.

Everything else — validation in ``loaders``, the Neo4j constraints, the GraphQL types,
the spreadsheet templates — is derived from the declarations in this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class ValueType(StrEnum):
    """The type of a property value as it is stored."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"  # a partial ISO date: 2023-08-16, 2023-08, 2023 or --08-16
    TEXT_LIST = "text_list"
    ENUM = "enum"


@dataclass(frozen=True)
class Property:
    """One property of a node kind or a relationship type."""

    name: str
    type: ValueType = ValueType.TEXT
    enum: tuple[str, ...] = ()
    description: str = ""
    aliases: tuple[str, ...] = ()  # extra header names, English and Russian

    def __post_init__(self) -> None:
        if (self.type is ValueType.ENUM) != bool(self.enum):
            raise ValueError(f"property {self.name!r}: enum values go with type ENUM only")


@dataclass(frozen=True)
class NodeKind:
    """A kind of node: its name (also the Neo4j label), key rule and properties."""

    name: str
    sheet: str  # the spreadsheet sheet / CSV file name that holds this kind
    description: str
    properties: tuple[Property, ...]
    label_property: str  # the property shown as the node's label
    key_property: str | None = None  # a property whose value becomes the key (INN wins)
    private_names: bool = False  # the label may be personal data (Person with public=false)
    sheet_aliases: tuple[str, ...] = ()

    def property(self, name: str) -> Property | None:
        return _index(self.properties).get(name)


@dataclass(frozen=True)
class RelationshipType:
    """A relationship type and the node kinds it may join."""

    name: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    description: str
    properties: tuple[Property, ...] = ()
    instruction_flow: bool = False  # part of how an instruction travels

    def property(self, name: str) -> Property | None:
        return _index(self.properties).get(name)


def _index(props: tuple[Property, ...]) -> dict[str, Property]:
    return {p.name: p for p in props}


class Evidence(StrEnum):
    """How well a fact is supported, strongest first."""

    DOCUMENTED = "documented"
    REPORTED = "reported"
    ALLEGED = "alleged"

    @property
    def strength(self) -> int:
        return {"documented": 3, "reported": 2, "alleged": 1}[self.value]


EVIDENCE_VALUES: Final = tuple(e.value for e in Evidence)
WORDING: Final = ("recommended", "strongly recommended", "required", "ordered")
AUTHORITY_LEVEL: Final = ("federal", "regional", "municipal")
AUTHORITY_TYPE: Final = (
    "ministry",
    "department",
    "administration",
    "election commission",
    "legislature",
    "other",
)
SECTOR: Final = (
    "education",
    "health",
    "culture",
    "social",
    "sport",
    "science",
    "enterprise",
    "other",
)
SOURCE_TYPE: Final = ("article", "statement", "document", "leak", "other")

#: Properties every node and relationship carries; kept out of the per-kind lists.
PROVENANCE_FIELDS: Final = ("sources", "evidence")

_T = ValueType
P = Property

NODE_KINDS: Final[tuple[NodeKind, ...]] = (
    NodeKind(
        name="Authority",
        sheet="authorities",
        sheet_aliases=("органы", "органы власти"),
        description="A ministry, regional department, municipal administration or "
        "election commission.",
        label_property="name",
        key_property="inn",
        properties=(
            P("name", aliases=("название", "наименование")),
            P("type", _T.ENUM, AUTHORITY_TYPE, aliases=("тип",)),
            P("level", _T.ENUM, AUTHORITY_LEVEL, aliases=("уровень",)),
            P("region", aliases=("регион",)),
            P("inn", aliases=("инн", "tax id")),
        ),
    ),
    NodeKind(
        name="Institution",
        sheet="institutions",
        sheet_aliases=("учреждения",),
        description="A state-funded institution: school, hospital, university, cultural "
        "centre, state enterprise.",
        label_property="name",
        key_property="inn",
        properties=(
            P("name", aliases=("название", "наименование")),
            P("inn", aliases=("инн", "tax id")),
            P("sector", _T.ENUM, SECTOR, aliases=("отрасль", "сфера", "сектор")),
            P("region", aliases=("регион",)),
            P("municipality", aliases=("муниципалитет", "район")),
            P("staff_count", _T.INTEGER, aliases=("штат", "численность", "staff")),
        ),
    ),
    NodeKind(
        name="Person",
        sheet="persons",
        sheet_aliases=("people", "лица", "люди"),
        description="A person. Private individuals (public=false) have their names "
        "redacted for readers; their keys never carry the name.",
        label_property="name",
        private_names=True,
        properties=(
            P("name", aliases=("фио", "имя")),
            P("public", _T.BOOLEAN, aliases=("публичное лицо",)),
            P("position", aliases=("должность",)),
            P(
                "aliases",
                _T.TEXT_LIST,
                description="other spellings of the name",
                aliases=("другие написания",),
            ),
        ),
    ),
    NodeKind(
        name="Party",
        sheet="parties",
        sheet_aliases=("партии",),
        description="A political party.",
        label_property="name",
        properties=(P("name", aliases=("название",)), P("short_name", aliases=("сокращение",))),
    ),
    NodeKind(
        name="Election",
        sheet="elections",
        sheet_aliases=("выборы",),
        description="An election in one constituency.",
        label_property="name",
        properties=(
            P("name", aliases=("название",)),
            P("constituency", aliases=("округ",)),
            P("date", _T.DATE, aliases=("дата",)),
        ),
    ),
    NodeKind(
        name="Directive",
        sheet="directives",
        sheet_aliases=("указания", "поручения"),
        description="An instruction passed down: who must do what, how firmly, by when.",
        label_property="title",
        properties=(
            P("title", aliases=("название",)),
            P("issued", _T.DATE, aliases=("дата", "выдано")),
            P("deadline", _T.DATE, aliases=("срок",)),
            P("wording", _T.ENUM, WORDING, aliases=("формулировка",)),
            P("channel", aliases=("канал",)),
            P("action", aliases=("действие",)),
        ),
    ),
    NodeKind(
        name="Poll",
        sheet="polls",
        sheet_aliases=("опросы",),
        description="A survey.",
        label_property="title",
        properties=(
            P("title", aliases=("название",)),
            P("questions", _T.TEXT_LIST, aliases=("вопросы",)),
            P("anonymous_claimed", _T.BOOLEAN, aliases=("заявлен анонимным",)),
        ),
    ),
    NodeKind(
        name="Platform",
        sheet="platforms",
        sheet_aliases=("платформы",),
        description="An online platform, such as the state services portal.",
        label_property="name",
        properties=(P("name", aliases=("название",)), P("url", aliases=("адрес", "ссылка"))),
    ),
    NodeKind(
        name="Source",
        sheet="sources",
        sheet_aliases=("источники",),
        description="Where a fact comes from: an article, statement, document or leak.",
        label_property="title",
        properties=(
            P("title", aliases=("название", "заголовок")),
            P("type", _T.ENUM, SOURCE_TYPE, aliases=("тип",)),
            P("url", aliases=("ссылка",)),
            P("publisher", aliases=("издание", "издатель")),
            P("published", _T.DATE, aliases=("опубликовано", "дата")),
        ),
    ),
)

_RECEIVED = (
    P("received", _T.DATE, aliases=("получено",)),
    P("channel", aliases=("канал",)),
)

RELATIONSHIP_TYPES: Final[tuple[RelationshipType, ...]] = (
    RelationshipType(
        "SUBORDINATE_TO",
        ("Institution", "Authority"),
        ("Authority",),
        "The source answers to (is founded or overseen by) the target authority.",
    ),
    RelationshipType(
        "WORKS_AT",
        ("Person",),
        ("Institution", "Authority"),
        "A person's job; parallel roles at one employer use the relationship key.",
        (
            P("role", aliases=("роль", "должность")),
            P("head", _T.BOOLEAN, aliases=("руководитель",)),
        ),
    ),
    RelationshipType(
        "ISSUED",
        ("Authority", "Institution", "Person"),
        ("Directive",),
        "The source issued the directive.",
        instruction_flow=True,
    ),
    RelationshipType(
        "TARGETS",
        ("Directive",),
        ("Authority", "Institution", "Person"),
        "The directive was addressed to the target.",
        _RECEIVED,
        instruction_flow=True,
    ),
    RelationshipType(
        "RELAYS",
        ("Directive",),
        ("Directive",),
        "The (newer) source directive passes on the (earlier) target directive.",
        instruction_flow=True,
    ),
    RelationshipType(
        "REQUIRES", ("Directive",), ("Poll",), "The directive requires answering the poll."
    ),
    RelationshipType("INITIATED", ("Authority",), ("Poll",), "The authority initiated the poll."),
    RelationshipType("HOSTED_ON", ("Poll",), ("Platform",), "The poll runs on the platform."),
    RelationshipType(
        "OPERATES", ("Authority",), ("Platform",), "The authority is responsible for the platform."
    ),
    RelationshipType("ABOUT", ("Poll",), ("Election",), "The poll is about the election."),
    RelationshipType(
        "CANDIDATE_IN",
        ("Person",),
        ("Election",),
        "The person stands in the election.",
        (P("party", aliases=("партия",)),),
    ),
    RelationshipType(
        "MEMBER_OF",
        ("Person",),
        ("Party",),
        "The person belongs to (or leads a group of) the party.",
        (P("role", aliases=("роль",)),),
    ),
    RelationshipType(
        "APPEALED_TO",
        ("Person",),
        ("Authority",),
        "The person appealed to the authority.",
        (P("date", _T.DATE, aliases=("дата",)), P("request", aliases=("просьба", "требование"))),
    ),
)

NODE_KIND_BY_NAME: Final = MappingProxyType({k.name: k for k in NODE_KINDS})
REL_TYPE_BY_NAME: Final = MappingProxyType({r.name: r for r in RELATIONSHIP_TYPES})


def _check_model() -> None:
    """Reject a bad declaration at import time, with one exception type."""
    from schema.errors import ModelError

    for rt in RELATIONSHIP_TYPES:
        for kind in (*rt.sources, *rt.targets):
            if kind not in NODE_KIND_BY_NAME:
                raise ModelError(f"relationship {rt.name} names unknown kind {kind!r}")
    for nk in NODE_KINDS:
        names = [p.name for p in nk.properties]
        if len(set(names)) != len(names):
            raise ModelError(f"node kind {nk.name} declares a property twice")
        if nk.label_property not in names:
            raise ModelError(f"node kind {nk.name}: label property {nk.label_property!r} missing")
        if set(names) & {"id", "kind", "key", "sources", "evidence", "origins"}:
            raise ModelError(f"node kind {nk.name} uses a reserved property name")


_check_model()
