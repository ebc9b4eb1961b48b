"""Configuration: paths, regions, profiles (`profiles.toml`), token sources, remembered state.

No Textual here (the TUI and the headless CLI both use this package).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:
    from .errors import ConfigError, ConfigWarning
    from .models import (
        CANNED_ACLS,
        ENVIRONMENT_PROFILE_NAME,
        MODES,
        ON_CONFLICT_POLICIES,
        SSE_ALGORITHMS,
        CommandSource,
        CredentialsSource,
        EnvSource,
        ExportPreset,
        ExportSettings,
        FileSource,
        Profile,
        TokenSource,
        location_fields,
        validate_profile_name,
    )
    from .paths import Paths
    from .profiles import (
        ImportResult,
        LoadResult,
        ProfilesConfig,
        ProfileStore,
        import_credentials,
        load_profiles,
        permission_warnings,
        profiles_from_credentials,
        save_profiles,
    )
    from .regions import REGIONS, Region, normalize_api_url, region_for_url, resolve_region
    from .secret import Secret
    from .state import State, load_state, remember_last_used, save_state
    from .tokens import (
        credentials_path,
        environment_profile,
        make_secret,
        read_credentials,
        resolve_token,
        write_token_file,
    )

# imported on first use, so that `sbexport --help` and `--version` stay light
_LAZY = {
    "ConfigError": ".errors",
    "ConfigWarning": ".errors",
    "CANNED_ACLS": ".models",
    "ENVIRONMENT_PROFILE_NAME": ".models",
    "MODES": ".models",
    "ON_CONFLICT_POLICIES": ".models",
    "SSE_ALGORITHMS": ".models",
    "CommandSource": ".models",
    "CredentialsSource": ".models",
    "EnvSource": ".models",
    "ExportPreset": ".models",
    "ExportSettings": ".models",
    "FileSource": ".models",
    "Profile": ".models",
    "TokenSource": ".models",
    "location_fields": ".models",
    "validate_profile_name": ".models",
    "Paths": ".paths",
    "ImportResult": ".profiles",
    "LoadResult": ".profiles",
    "ProfilesConfig": ".profiles",
    "ProfileStore": ".profiles",
    "import_credentials": ".profiles",
    "load_profiles": ".profiles",
    "permission_warnings": ".profiles",
    "profiles_from_credentials": ".profiles",
    "save_profiles": ".profiles",
    "REGIONS": ".regions",
    "Region": ".regions",
    "normalize_api_url": ".regions",
    "region_for_url": ".regions",
    "resolve_region": ".regions",
    "Secret": ".secret",
    "State": ".state",
    "load_state": ".state",
    "remember_last_used": ".state",
    "save_state": ".state",
    "credentials_path": ".tokens",
    "environment_profile": ".tokens",
    "make_secret": ".tokens",
    "read_credentials": ".tokens",
    "resolve_token": ".tokens",
    "write_token_file": ".tokens",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())


__all__ = [
    "CANNED_ACLS",
    "ENVIRONMENT_PROFILE_NAME",
    "MODES",
    "ON_CONFLICT_POLICIES",
    "REGIONS",
    "SSE_ALGORITHMS",
    "CommandSource",
    "ConfigError",
    "ConfigWarning",
    "CredentialsSource",
    "EnvSource",
    "ExportPreset",
    "ExportSettings",
    "FileSource",
    "ImportResult",
    "LoadResult",
    "Paths",
    "Profile",
    "ProfileStore",
    "ProfilesConfig",
    "Region",
    "Secret",
    "State",
    "TokenSource",
    "credentials_path",
    "environment_profile",
    "import_credentials",
    "load_profiles",
    "load_state",
    "location_fields",
    "make_secret",
    "normalize_api_url",
    "permission_warnings",
    "profiles_from_credentials",
    "read_credentials",
    "region_for_url",
    "remember_last_used",
    "resolve_region",
    "resolve_token",
    "save_profiles",
    "save_state",
    "validate_profile_name",
    "write_token_file",
]
