"""Reports for people: the council report (tables, xlsx, html) and the SVG charts they share."""
