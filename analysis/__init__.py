"""analysis — coverage, underserved areas, siting and lawyer circuits. Never renders."""
