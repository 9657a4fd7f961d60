"""Live regions of quotes (registered with regions.register and regions.affects)."""
