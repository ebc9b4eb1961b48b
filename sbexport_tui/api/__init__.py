"""The Seven Bridges Platform REST v2 client: models, errors, paging, retries, rate budget, regions.

No Textual here: the TUI, the engine and the headless CLI all use this package.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import (
        ADVANCE_ACCESS_HEADER,
        BULK_MAX,
        PAGE_SIZE,
        TOKEN_HEADER,
        ClientStatus,
        PlatformClient,
        RetryPolicy,
        redact_headers,
    )
    from .errors import (
        ERROR_CODES,
        AmbiguousSubmitError,
        ApiError,
        AuthError,
        BadRequest,
        BadResponse,
        Conflict,
        Explanation,
        Maintenance,
        NetworkError,
        NotFound,
        PagingError,
        PermissionDenied,
        PlatformError,
        RateLimited,
        ServerError,
        explain,
    )
    from .models import (
        ApiErrorBody,
        BulkRecord,
        ExportItem,
        ExportJob,
        ExportResult,
        File,
        JobLookup,
        Project,
        RateLimitStatus,
        User,
        Volume,
        VolumeObject,
        VolumePrefix,
    )
    from .ratelimit import BudgetState, Priority, RateBudget
    from .regions import (
        DEFAULT_REGION,
        REGIONS,
        BaseUrlError,
        Region,
        get_region,
        region_for_url,
        resolve_base_url,
        validate_base_url,
    )

# imported on first use, so that `sbexport --help` and `--version` stay light
_LAZY = {
    "ADVANCE_ACCESS_HEADER": ".client",
    "BULK_MAX": ".client",
    "PAGE_SIZE": ".client",
    "TOKEN_HEADER": ".client",
    "ClientStatus": ".client",
    "PlatformClient": ".client",
    "RetryPolicy": ".client",
    "redact_headers": ".client",
    "ERROR_CODES": ".errors",
    "AmbiguousSubmitError": ".errors",
    "ApiError": ".errors",
    "AuthError": ".errors",
    "BadRequest": ".errors",
    "BadResponse": ".errors",
    "Conflict": ".errors",
    "Explanation": ".errors",
    "Maintenance": ".errors",
    "NetworkError": ".errors",
    "NotFound": ".errors",
    "PagingError": ".errors",
    "PermissionDenied": ".errors",
    "PlatformError": ".errors",
    "RateLimited": ".errors",
    "ServerError": ".errors",
    "explain": ".errors",
    "ApiErrorBody": ".models",
    "BulkRecord": ".models",
    "ExportItem": ".models",
    "ExportJob": ".models",
    "ExportResult": ".models",
    "File": ".models",
    "JobLookup": ".models",
    "Project": ".models",
    "RateLimitStatus": ".models",
    "User": ".models",
    "Volume": ".models",
    "VolumeObject": ".models",
    "VolumePrefix": ".models",
    "BudgetState": ".ratelimit",
    "Priority": ".ratelimit",
    "RateBudget": ".ratelimit",
    "DEFAULT_REGION": ".regions",
    "REGIONS": ".regions",
    "BaseUrlError": ".regions",
    "Region": ".regions",
    "get_region": ".regions",
    "region_for_url": ".regions",
    "resolve_base_url": ".regions",
    "validate_base_url": ".regions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "ADVANCE_ACCESS_HEADER",
    "BULK_MAX",
    "DEFAULT_REGION",
    "ERROR_CODES",
    "PAGE_SIZE",
    "REGIONS",
    "TOKEN_HEADER",
    "AmbiguousSubmitError",
    "ApiError",
    "ApiErrorBody",
    "AuthError",
    "BadRequest",
    "BadResponse",
    "BaseUrlError",
    "BudgetState",
    "BulkRecord",
    "ClientStatus",
    "Conflict",
    "Explanation",
    "ExportItem",
    "ExportJob",
    "ExportResult",
    "File",
    "JobLookup",
    "Maintenance",
    "NetworkError",
    "NotFound",
    "PagingError",
    "PermissionDenied",
    "PlatformClient",
    "PlatformError",
    "Priority",
    "Project",
    "RateBudget",
    "RateLimitStatus",
    "RateLimited",
    "Region",
    "RetryPolicy",
    "ServerError",
    "User",
    "Volume",
    "VolumeObject",
    "VolumePrefix",
    "explain",
    "get_region",
    "redact_headers",
    "region_for_url",
    "resolve_base_url",
    "validate_base_url",
]
