"""Live regions of billing (registered with regions.register and regions.affects)."""
