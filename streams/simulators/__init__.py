"""Local stand-ins for external systems, for tests and demos; product code never imports them."""
