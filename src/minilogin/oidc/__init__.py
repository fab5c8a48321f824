"""The OpenID Connect provider: discovery, keys, the token endpoint and UserInfo."""
