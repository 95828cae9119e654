"""One basemap setting for the atlas and the web app, and the GCJ-02 display shift.

Names: ``offline`` (default; nothing external is fetched — ``none`` is an accepted alias),
``tianditu`` (天地图, needs a key; CGCS2000 equals WGS84 at map scale), ``amap``/``gaode``
(高德, tiles in GCJ-02), ``osm``, or a URL template ``http(s)://…{z}…{x}…{y}…`` whose CRS
(``wgs84`` or ``gcj02``) must be stated.

:func:`resolve_basemap` is the one place the setting is read. Precedence, per the
documented rule **flag > app config > environment > default**:

* the basemap name and its CRS come together from the highest source that names a basemap
  (``--basemap``/``--basemap-crs``; app config ``BASEMAP``/``BASEMAP_CRS``;
  ``DOORSTEP_BASEMAP``/``DOORSTEP_BASEMAP_CRS``; else ``offline``);
* the 天地图 key from the highest source that gives one (``--tianditu-key``;
  ``TIANDITU_KEY``; ``DOORSTEP_TIANDITU_KEY``).

On a GCJ-02 source the *data* stay WGS84: the atlas shifts overlays with
:meth:`TileSource.shift` while drawing, the web app's Leaflet map projects WGS84 through the
GCJ-02 offset (``static/common.js``) so overlays are shifted for display and clicks come back
as WGS84.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from doorstep.geo._errors import InputError

TileCRS = Literal["wgs84", "gcj02"]
OFFLINE = "offline"
ALIASES: dict[str, str] = {"none": OFFLINE, "gaode": "amap"}
"""Accepted other names of a basemap."""


@dataclass(frozen=True)
class Basemap:
    """A named tile source in the catalogue: URL template, attribution, CRS, needs a key?"""

    name: str
    label: str
    url: str | None
    attribution: str
    datum: str = "WGS84"  # or "GCJ02"
    needs_key: bool = False
    subdomains: str = "abc"

    def tiles_url(self, key: str | None = None) -> str | None:
        """Tile URL with the user key filled in (``None`` for the offline basemap)."""
        if self.url is None:
            return None
        if self.needs_key:
            if not key:
                raise InputError(
                    f"basemap {self.name!r} needs a user key (天地图 token); pass "
                    "--tianditu-key, set TIANDITU_KEY or DOORSTEP_TIANDITU_KEY, or choose "
                    "--basemap offline"
                )
            return self.url.replace("{key}", key)
        return self.url


BASEMAPS: dict[str, Basemap] = {
    OFFLINE: Basemap(OFFLINE, "离线（县域模型）Offline (the county model)", None, ""),
    "osm": Basemap(
        "osm",
        "OpenStreetMap",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
    ),
    "tianditu": Basemap(
        "tianditu",
        "天地图 Tianditu",
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk={key}",
        "&copy; 天地图 Tianditu",
        needs_key=True,
        subdomains="01234567",
    ),
    "amap": Basemap(
        "amap",
        "高德地图 Amap (GCJ-02)",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi",
        datum="GCJ02",
        subdomains="1234",
    ),
}
NAMES = (*BASEMAPS, *ALIASES)
"""Every name ``--basemap`` accepts besides a URL template."""


def get_basemap(name: str) -> Basemap:
    """Look up a catalogue basemap by name or alias (``offline``/``none``, ``osm``,
    ``tianditu``, ``amap``/``gaode``)."""
    try:
        return BASEMAPS[ALIASES.get(name, name)]
    except KeyError:
        raise InputError(
            f"unknown basemap {name!r}; choose one of {', '.join(NAMES)} or a URL template"
        ) from None


@dataclass(frozen=True)
class BasemapChoice:
    """The basemap values one source gives (any may be missing)."""

    basemap: str | None = None
    crs: str | None = None
    tianditu_key: str | None = None


@dataclass(frozen=True)
class _Source:
    """A source of the setting: the names its three values go by."""

    basemap: str
    crs: str
    key: str


FLAGS = _Source("--basemap", "--basemap-crs", "--tianditu-key")
CONFIG = _Source("BASEMAP", "BASEMAP_CRS", "TIANDITU_KEY")
ENV = _Source("DOORSTEP_BASEMAP", "DOORSTEP_BASEMAP_CRS", "DOORSTEP_TIANDITU_KEY")


@dataclass(frozen=True)
class TileSource:
    """A resolved, validated basemap setting.

    ``url`` is ``None`` for ``offline``; ``crs`` is the CRS of the tiles; ``setting`` names
    where the basemap came from (e.g. ``--basemap``) for messages.
    """

    name: str
    label: str
    url: str | None
    crs: TileCRS
    attribution: str = ""
    subdomains: str = "abc"
    setting: str = "default"

    @property
    def offline(self) -> bool:
        """No tiles: the map draws the county model itself."""
        return self.url is None

    @property
    def gcj02(self) -> bool:
        """Tiles in GCJ-02: overlays are shifted for display."""
        return self.crs == "gcj02"

    def origin(self) -> str | None:
        """``scheme://host[:port]`` the tiles come from, for the CSP; a host label with
        ``{s}`` (``t{s}.tianditu.gov.cn``) makes it a wildcard (``*.tianditu.gov.cn``)."""
        if self.url is None:
            return None
        parts = urlsplit(self.url.replace("{s}", "SUBDOMAIN"))
        labels = parts.netloc.split(".")
        if "SUBDOMAIN" in labels[0]:
            labels[0] = "*"
        return f"{parts.scheme}://{'.'.join(labels)}"

    def page_config(self) -> dict[str, Any]:
        """The JSON block the web pages read (``static/common.js`` builds the map from it)."""
        return {
            "name": self.name,
            "label": self.label,
            "url": self.url,
            "crs": self.crs,
            "attribution": self.attribution,
            "subdomains": self.subdomains,
        }

    def shift(self, gdf: Any) -> Any:
        """``gdf`` (EPSG:4326) shifted for display on these tiles (a copy when shifted)."""
        if not self.gcj02 or gdf is None or len(gdf) == 0:
            return gdf
        from doorstep.geo.coords import geometry_wgs84_to_gcj02

        out = gdf.copy()
        out["geometry"] = [geometry_wgs84_to_gcj02(g) for g in out.geometry]
        return out


DEFAULT_SOURCE = TileSource(OFFLINE, BASEMAPS[OFFLINE].label, None, "wgs84")

_TEMPLATE_FIELD = re.compile(r"\{([^}]*)\}")
_ALLOWED_FIELDS = {"z", "x", "y", "s", "r"}
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _value(v: object) -> str | None:
    """A setting's value as text (``from_prefixed_env`` may turn a key into a number)."""
    if v is None:
        return None
    s = str(v).strip()
    return s or None


def _crs(value: str | None, setting: str) -> TileCRS | None:
    if value is None:
        return None
    v = value.lower().replace("-", "").replace("_", "")
    if v in ("wgs84", "cgcs2000", "epsg4326", "epsg3857"):
        return "wgs84"
    if v == "gcj02":
        return "gcj02"
    raise InputError(
        f"{setting}={value!r} is not a tile CRS Doorstep knows; fix: write wgs84 (OSM, 天地图, "
        "most WMTS) or gcj02 (高德/腾讯 tiles)"
    )


def _template(url: str, crs: TileCRS | None, src: _Source) -> TileSource:
    if not url.startswith(("http://", "https://")):
        raise InputError(
            f"unknown basemap {url!r} ({src.basemap}): neither a name ({', '.join(NAMES)}) "
            "nor an http(s) URL template; fix: choose a name, or e.g. "
            "'https://host/{z}/{x}/{y}.png' with its CRS"
        )
    fields = set(_TEMPLATE_FIELD.findall(url))
    missing = [f for f in ("z", "x", "y") if f not in fields]
    if missing:
        raise InputError(
            f"{src.basemap}={url!r} lacks {', '.join('{' + f + '}' for f in missing)}; fix: a "
            "tile URL template has {z}, {x} and {y} (e.g. https://host/{z}/{x}/{y}.png)"
        )
    unknown = sorted(fields - _ALLOWED_FIELDS)
    if unknown:
        raise InputError(
            f"{src.basemap}={url!r} has unknown field(s) {', '.join(unknown)}; fix: use only "
            "{z} {x} {y} {s} {r} (put a key into the URL itself)"
        )
    if crs is None:
        raise InputError(
            f"{src.basemap} is a URL template but its CRS is not stated; fix: set "
            f"{src.crs} to wgs84 or gcj02"
        )
    host = urlsplit(url.replace("{s}", "a")).netloc
    return TileSource("url", host, url, crs, f"tiles: {host}", "abc", src.basemap)


def _named(
    name: str, crs: TileCRS | None, key: str | None, src: _Source, key_from: str
) -> TileSource:
    bm = get_basemap(name)
    own: TileCRS = "gcj02" if bm.datum == "GCJ02" else "wgs84"
    if crs is not None and crs != own:
        raise InputError(
            f"{src.crs}={crs} contradicts {src.basemap}={name} (its tiles are {own}); fix: "
            f"remove {src.crs} — it only applies to a URL template"
        )
    if bm.needs_key and key is None:
        raise InputError(
            f"{src.basemap}={name} needs a user key (天地图 token); fix: pass --tianditu-key, "
            "set TIANDITU_KEY or DOORSTEP_TIANDITU_KEY, or choose offline"
        )
    if bm.needs_key and key is not None and not _KEY.match(key):
        raise InputError(
            f"{key_from} does not look like a 天地图 key (letters and digits only); fix: copy the "
            "key from console.tianditu.gov.cn"
        )
    return TileSource(
        bm.name, bm.label, bm.tiles_url(key), own, bm.attribution, bm.subdomains, src.basemap
    )


def resolve_basemap(
    flags: BasemapChoice | None = None,
    config: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> TileSource:
    """The basemap setting from the command line, the app config and the environment
    (precedence flag > config > env > default ``offline``; see the module docstring).

    Raises
    ------
    InputError
        Unknown name, missing or malformed 天地图 key, URL template without ``{z}/{x}/{y}``
        or without a stated CRS, unknown CRS — naming the setting and the fix.
    """
    tiers = [
        (FLAGS, flags or BasemapChoice()),
        (CONFIG, _choice(config or {}, CONFIG)),
        (ENV, _choice(env or {}, ENV)),
    ]
    key, key_from = None, FLAGS.key
    for src, c in tiers:
        if c.tianditu_key is not None:
            key, key_from = c.tianditu_key, src.key
            break
    for src, c in tiers:
        if c.basemap is None:
            if c.crs is not None:
                raise InputError(
                    f"{src.crs} is set but {src.basemap} is not; fix: give {src.basemap} a URL "
                    f"template too, or remove {src.crs}"
                )
            continue
        crs = _crs(c.crs, src.crs)
        name = c.basemap.lower()
        if name in BASEMAPS or name in ALIASES:
            return _named(name, crs, key, src, key_from)
        return _template(c.basemap, crs, src)
    return DEFAULT_SOURCE


def _choice(values: Mapping[str, Any], src: _Source) -> BasemapChoice:
    return BasemapChoice(
        _value(values.get(src.basemap)), _value(values.get(src.crs)), _value(values.get(src.key))
    )


def shift_for(basemap: Basemap, gdf: Any) -> Any:
    """Return ``gdf`` (EPSG:4326) shifted to a catalogue basemap's datum (see
    :meth:`TileSource.shift`)."""
    crs: TileCRS = "gcj02" if basemap.datum == "GCJ02" else "wgs84"
    return TileSource(basemap.name, basemap.label, basemap.url, crs).shift(gdf)
