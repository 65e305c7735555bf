"""The bundled case, loaded into a store for tests."""

from __future__ import annotations

from graph_service.cli import case_files
from graph_service.storage import Store
from loaders.load import load_files

# Justified from the report in shared/reference (see graph_service/case_data/README.md):
# 5 authorities (regional Department of Internal Policy, Ministry of Digital Development,
# regional election commission, Central Election Commission, regional council),
# 1 collective institution node, 6 persons (five candidates and the commission's chair),
# 5 parties, 1 election, 1 directive, 1 poll, 1 platform, 2 sources (the report, and the
# CPRF statement it relays).
CASE_NODES = {
    "Authority": 5,
    "Institution": 1,
    "Person": 6,
    "Party": 5,
    "Election": 1,
    "Directive": 1,
    "Poll": 1,
    "Platform": 1,
    "Source": 2,
}
# ISSUED, TARGETS, REQUIRES (the directive); INITIATED, HOSTED_ON, ABOUT (the poll);
# OPERATES (the ministry runs the portal); 5 CANDIDATE_IN and 5 MEMBER_OF (the candidates);
# 5 WORKS_AT (four council members, the commission chair); 1 APPEALED_TO (Tokarev to the CEC).
CASE_RELATIONSHIPS = {
    "ISSUED": 1,
    "TARGETS": 1,
    "REQUIRES": 1,
    "INITIATED": 1,
    "HOSTED_ON": 1,
    "ABOUT": 1,
    "OPERATES": 1,
    "CANDIDATE_IN": 5,
    "MEMBER_OF": 5,
    "WORKS_AT": 5,
    "APPEALED_TO": 1,
}


def load_case(store: Store) -> None:
    load_files(case_files(), store)
