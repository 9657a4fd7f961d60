"""Live regions of the back-office product, stock and customer screens."""
