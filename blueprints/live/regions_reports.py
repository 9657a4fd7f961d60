"""Live report regions (report-<name>): figures re-rendered per audience on orders and payments."""
