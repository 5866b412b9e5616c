"""One module per tab; each renders its components and wires its events."""


def model_choices(settings, capability: str = "embeddings") -> list[tuple[str, str]]:
    """(label, id) pairs for a model dropdown: the profile's allow-list, nothing else."""
    return [(spec.label, spec.id) for spec in settings.allowed(capability)]
