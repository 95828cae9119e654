"""webmap — folium maps and the Flask app. Computes nothing itself: it calls :mod:`analysis`."""
