"""Demo materials of custom parts (core.custom_parts): what a steel-cutting service offers."""

from core.models import Material
from extensions import db

MATERIALS = (
    ("S235 steel", ["1", "2", "3", "5", "8"], True),
    ("Stainless steel 1.4301", ["1", "1.5", "2", "3"], True),
    ("Aluminium 5754", ["1", "1.5", "2", "3", "5"], True),
    ("Copper", ["0.5", "1"], False),
)


def build_materials() -> None:
    """The materials list, one switched off (customers no longer choose it)."""
    db.session.add_all(
        Material(name=name, thicknesses=thicknesses, active=active)
        for name, thicknesses, active in MATERIALS
    )
    db.session.flush()
