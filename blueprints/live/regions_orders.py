"""Live regions of orders (registered with regions.register and regions.affects)."""
