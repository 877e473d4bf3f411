"""Value types shared by the typology package: the four types and the goal dimensions."""

from __future__ import annotations

from enum import StrEnum


class TypeId(StrEnum):
    """The four municipal digitalisation types of the ÖFIT/KGSt study, in canonical order."""

    BEDAECHTIGE = "bedaechtige"
    OPTIMIERER = "optimierer"
    SERVICEORIENTIERTE = "serviceorientierte"
    COMMUNITY = "community"


TYPES: tuple[TypeId, ...] = tuple(TypeId)

# Design assumption (documented in docs/typology.md), not a published result of the study:
# which goal dimension expresses which type's goal focus.
DIMENSION_TYPE: dict[str, TypeId] = {
    "a": TypeId.BEDAECHTIGE,  # legal requirements (OZG, E-Government laws)
    "b": TypeId.BEDAECHTIGE,  # obtaining funding
    "c": TypeId.BEDAECHTIGE,  # IT security and reliability
    "d": TypeId.OPTIMIERER,  # efficiency of administrative processes
    "e": TypeId.OPTIMIERER,  # effectiveness, widening the digital service offer
    "f": TypeId.SERVICEORIENTIERTE,  # staff satisfaction and qualification
    "g": TypeId.SERVICEORIENTIERTE,  # citizen satisfaction, Bürgernähe, user experience
    "h": TypeId.SERVICEORIENTIERTE,  # attractiveness as a place to live and do business
    "i": TypeId.COMMUNITY,  # openness, transparency, participation
    "j": TypeId.COMMUNITY,  # Daseinsvorsorge
    "k": TypeId.COMMUNITY,  # local community, civil society, local business
    "l": TypeId.BEDAECHTIGE,  # cooperation with other municipalities and the Land (version 2)
    "m": TypeId.BEDAECHTIGE,  # reusing solutions proven in other administrations (version 2)
}

DIMENSIONS: tuple[str, ...] = tuple(DIMENSION_TYPE)
