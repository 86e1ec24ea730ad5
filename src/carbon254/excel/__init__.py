"""The Excel add-in: its manifest (`manifest.py`), icons (`icons.py`) and the files it runs (`static/`).

The platform serves the whole add-in itself under `/excel/` (see
`carbon254.service.routes.excel`): users sit behind firewalls, so nothing but
Office.js (which Office requires from Microsoft's CDN) comes from elsewhere.
The custom functions (namespace `C254`) live in `static/c254.js`, a plain
ES module that Office and the Node tests share.
"""

from __future__ import annotations

from carbon254.excel.assets import ASSET_MEDIA_TYPES, read_asset
from carbon254.excel.manifest import FUNCTIONS_NAMESPACE, build_manifest

__all__ = ["ASSET_MEDIA_TYPES", "FUNCTIONS_NAMESPACE", "build_manifest", "read_asset"]
