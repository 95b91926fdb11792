"""The TikTok Business API version Tessera speaks, and the endpoints it calls (paths are
relative to the versioned base URL, `[tiktok] api_base_url`)."""

from __future__ import annotations

from typing import Final

API_VERSION: Final = "v1.3"
DEFAULT_BASE_URL: Final = f"https://business-api.tiktok.com/open_api/{API_VERSION}/"

OAUTH_EXCHANGE: Final = "oauth2/access_token/"
OAUTH_ADVERTISERS: Final = "oauth2/advertiser/get/"
USER_INFO: Final = "user/info/"
AUDIENCE: Final = "segment/audience/"  # create, delete
MAPPING: Final = "segment/mapping/"  # add, delete users
AUDIENCE_LIST: Final = "dmp/custom_audience/list/"
AUDIENCE_GET: Final = "dmp/custom_audience/get/"
