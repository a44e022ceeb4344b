"""The ministry's starting mapping of DAC sectors to its themes (the 17 themes of
`seeds/03_themes.yaml`, by code). A data migration writes it for the themes that exist, and the
demo seed for those it creates; ministry editors change it afterwards through `sector-themes/`.

A three-digit DAC category (sector vocabulary 2) maps every purpose code in it as well.
"""

DEFAULT_SECTOR_THEMES: dict[str, tuple[str, ...]] = {
    # Decentralisation, public-sector policy, legal and judicial development.
    "policies-legislation": ("15110", "15112", "15130"),
    # Waste management, basic and large-system sanitation; the water and sanitation category.
    "environmental-sanitation": ("14050", "14032", "14022", "140"),
    # Domestic revenue mobilisation, local government finance, tax collection and policy, non-tax revenue.
    "local-revenue": ("15114", "15128", "15116", "15155", "15156"),
    # Police affairs: the municipal guard enforces local regulations.
    "municipal-guard": ("15132",),
    # Executive office: the municipal agent runs the administration for the council.
    "municipal-agent": ("15154",),
    # Multi-hazard preparedness, disaster risk reduction, fire and rescue; the disaster prevention category.
    "disaster-preparedness": ("74020", "43060", "15133", "740"),
    "community-participation": ("15150",),
    "civil-society-coordination": ("15150",),
    # Social services, including youth development.
    "young-local-leaders": ("16015",),
    "intergovernmental-coordination": ("15112",),
    # Urban development and management, urban land policy.
    "urban-planning": ("43030", "43031"),
    # Integrated urban and rural development projects.
    "development-projects": ("43032", "43042"),
    # Government records and archives; statistics and data.
    "archiving-data": ("15126", "15196"),
    # Women's rights organisations and institutions; ending violence against women and girls.
    "womens-empowerment": ("15170", "15180"),
    # Local government administration.
    "capacity-building": ("15185",),
    "youth-jobs": ("16020",),
    # Social protection.
    "inclusive-services": ("16010",),
}


def default_pairs() -> list[tuple[str, str]]:
    """(DAC code, theme code) pairs of the default mapping."""
    return [(code, theme) for theme, codes in DEFAULT_SECTOR_THEMES.items() for code in codes]
