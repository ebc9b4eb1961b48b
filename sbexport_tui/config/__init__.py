"""Configuration: paths, regions, profiles (`profiles.toml`), token sources, remembered state.

No Textual here (the TUI and the headless CLI both use this package).
"""

from __future__ import annotations

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
