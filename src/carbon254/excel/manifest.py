"""The add-in-only XML manifest (Office add-ins schema 1.1, VersionOverrides 1.0) for one serving host.

Every URL in it is under the base URL of the request that fetched it, so a
deployment needs no configuration: whatever scheme, host and port users
reach the platform at (uvicorn's proxy headers already folded into
`request.base_url`) is where Office loads the add-in from. Excel desktop
loads add-ins only over HTTPS; Excel on the web also accepts a localhost
HTTP URL for development.

The custom functions and the task pane share one runtime (the
`SharedRuntime` requirement set): the task pane page hosts the functions,
so the key a user signs in with there is the one the functions use, and
every call is same-origin (no CORS).
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit

from carbon254.excel.icons import ICON_SIZES

OFFICE_NS = "http://schemas.microsoft.com/office/appforoffice/1.1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
BT_NS = "http://schemas.microsoft.com/office/officeappbasictypes/1.0"
OV_NS = "http://schemas.microsoft.com/office/taskpaneappversionoverrides"

FUNCTIONS_NAMESPACE = "C254"
EXCEL_PATH = "/excel"
DISPLAY_NAME = "254Carbon"
DESCRIPTION = (
    "Power-market prices in Excel: =C254.LMP, =C254.BASIS, forward curves (=C254.CURVE, =C254.HPFC), "
    "=C254.LOCATIONS and the live =C254.LIVE."
)
PROVIDER = "254Carbon"
# The Id must stay the same across versions of one deployment and differ between
# deployments (two sideloaded hosts must not collide): a name-based UUID of the base URL.
_ID_NAMESPACE = uuid.UUID("2f6c8a3e-5b1d-4c9e-9a54-0c254c254c25")

# ElementTree cannot write a default namespace that changes inside the document, which
# the format needs: `xsi:type` values such as "Workbook" are QNames resolved against the
# default namespace in scope, so VersionOverrides must redeclare it as Office's templates
# do. The tree is therefore built with literal prefixed names and `xmlns` attributes,
# which serialise to exactly that text (and parse back into the proper namespaces).
XSI_TYPE = "xsi:type"


def _bt(tag: str) -> str:
    return f"bt:{tag}"


def manifest_version() -> str:
    """The add-in version: the package version as the four dotted numbers Office expects (e.g. 0.1.0.0)."""
    try:
        text = version("carbon254")
    except PackageNotFoundError:
        text = "0"
    numbers = [int(n) for n in re.findall(r"\d+", text.split("+")[0])[:4]]
    return ".".join(str(n) for n in [*numbers, 0, 0, 0, 0][:4])


def normalise_base_url(base_url: str) -> str:
    """`base_url` without a trailing slash; ValueError unless it is an absolute http(s) URL."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base URL must be an absolute http:// or https:// URL, got {base_url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _icons(parent: ET.Element) -> None:
    icon = _sub(parent, "Icon")
    for size in (16, 32, 80):
        _sub(icon, _bt("Image"), size=str(size), resid=f"Icon.{size}x{size}")


def _version_overrides(root: ET.Element, urls: dict[str, str]) -> None:
    overrides = _sub(root, "VersionOverrides", xmlns=OV_NS, **{XSI_TYPE: "VersionOverridesV1_0"})
    host = _sub(_sub(overrides, "Hosts"), "Host", **{XSI_TYPE: "Workbook"})
    _sub(_sub(host, "Runtimes"), "Runtime", resid="Taskpane.Url", lifetime="long")

    functions = _sub(_sub(host, "AllFormFactors"), "ExtensionPoint", **{XSI_TYPE: "CustomFunctions"})
    _sub(_sub(functions, "Script"), "SourceLocation", resid="Functions.Script.Url")
    _sub(_sub(functions, "Page"), "SourceLocation", resid="Taskpane.Url")
    _sub(_sub(functions, "Metadata"), "SourceLocation", resid="Functions.Metadata.Url")
    _sub(functions, "Namespace", resid="Functions.Namespace")

    desktop = _sub(host, "DesktopFormFactor")
    started = _sub(desktop, "GetStarted")
    _sub(started, "Title", resid="GetStarted.Title")
    _sub(started, "Description", resid="GetStarted.Description")
    _sub(started, "LearnMoreUrl", resid="GetStarted.LearnMoreUrl")
    _sub(desktop, "FunctionFile", resid="Taskpane.Url")
    surface = _sub(desktop, "ExtensionPoint", **{XSI_TYPE: "PrimaryCommandSurface"})
    group = _sub(_sub(surface, "OfficeTab", id="TabData"), "Group", id="C254.Group")
    _sub(group, "Label", resid="Group.Label")
    _icons(group)
    button = _sub(group, "Control", id="C254.TaskpaneButton", **{XSI_TYPE: "Button"})
    _sub(button, "Label", resid="TaskpaneButton.Label")
    tip = _sub(button, "Supertip")
    _sub(tip, "Title", resid="TaskpaneButton.Label")
    _sub(tip, "Description", resid="TaskpaneButton.Tooltip")
    _icons(button)
    action = _sub(button, "Action", **{XSI_TYPE: "ShowTaskpane"})
    _sub(action, "TaskpaneId", "C254.Taskpane")
    _sub(action, "SourceLocation", resid="Taskpane.Url")

    resources = _sub(overrides, "Resources")
    images = _sub(resources, _bt("Images"))
    for size in (16, 32, 80):
        _sub(images, _bt("Image"), id=f"Icon.{size}x{size}", DefaultValue=urls[f"icon-{size}"])
    url_list = _sub(resources, _bt("Urls"))
    for resid, key in (
        ("Functions.Script.Url", "functions.js"),
        ("Functions.Metadata.Url", "functions.json"),
        ("Taskpane.Url", "taskpane.html"),
        ("GetStarted.LearnMoreUrl", "docs"),
    ):
        _sub(url_list, _bt("Url"), id=resid, DefaultValue=urls[key])
    short = _sub(resources, _bt("ShortStrings"))
    for resid, text in (
        ("Functions.Namespace", FUNCTIONS_NAMESPACE),
        ("GetStarted.Title", "254Carbon prices are ready"),
        ("Group.Label", "254Carbon"),
        ("TaskpaneButton.Label", "254Carbon"),
    ):
        _sub(short, _bt("String"), id=resid, DefaultValue=text)
    long = _sub(resources, _bt("LongStrings"))
    for resid, text in (
        (
            "GetStarted.Description",
            "Sign in from the 254Carbon button on the Data tab, then type =C254.LMP(...).",
        ),
        ("TaskpaneButton.Tooltip", "Sign in to 254Carbon and browse priced locations."),
    ):
        _sub(long, _bt("String"), id=resid, DefaultValue=text)


def build_manifest(base_url: str) -> str:
    """The manifest XML (UTF-8 text with declaration) for the platform served at `base_url`.

    `base_url` is the scheme, host, port and root path users reach the
    platform at (a FastAPI `request.base_url`); every URL in the manifest is
    under it. ValueError if it is not an absolute http(s) URL.
    """
    base = normalise_base_url(base_url)
    excel = base + EXCEL_PATH
    urls = {
        "functions.js": f"{excel}/functions.js",
        "functions.json": f"{excel}/functions.json",
        "taskpane.html": f"{excel}/taskpane.html",
        "docs": f"{base}/docs",
        **{f"icon-{size}": f"{excel}/icon-{size}.png" for size in ICON_SIZES},
    }
    root = ET.Element(
        "OfficeApp",
        {
            "xmlns": OFFICE_NS,
            "xmlns:xsi": XSI_NS,
            "xmlns:bt": BT_NS,
            "xmlns:ov": OV_NS,
            XSI_TYPE: "TaskPaneApp",
        },
    )
    _sub(root, "Id", str(uuid.uuid5(_ID_NAMESPACE, base)))
    _sub(root, "Version", manifest_version())
    _sub(root, "ProviderName", PROVIDER)
    _sub(root, "DefaultLocale", "en-US")
    _sub(root, "DisplayName", DefaultValue=DISPLAY_NAME)
    _sub(root, "Description", DefaultValue=DESCRIPTION)
    _sub(root, "IconUrl", DefaultValue=urls["icon-32"])
    _sub(root, "HighResolutionIconUrl", DefaultValue=urls["icon-64"])
    _sub(root, "SupportUrl", DefaultValue=urls["docs"])
    _sub(_sub(root, "AppDomains"), "AppDomain", base)
    _sub(_sub(root, "Hosts"), "Host", Name="Workbook")
    sets = _sub(_sub(root, "Requirements"), "Sets", DefaultMinVersion="1.1")
    _sub(sets, "Set", Name="SharedRuntime", MinVersion="1.1")
    _sub(_sub(root, "DefaultSettings"), "SourceLocation", DefaultValue=urls["taskpane.html"])
    _sub(root, "Permissions", "ReadWriteDocument")
    _version_overrides(root, urls)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=False).join(
        ('<?xml version="1.0" encoding="UTF-8"?>\n', "\n")
    )
