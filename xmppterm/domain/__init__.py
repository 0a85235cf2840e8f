"""Pure types and logic: no I/O, no third-party imports (DESIGN.md, layer `domain`)."""
