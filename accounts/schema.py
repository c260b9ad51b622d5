"""How the API's authentication classes appear in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from /accounts/tokens/: `Authorization: Bearer <token>`.",
        }


class ProviderAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ProviderAccessTokenAuthentication"
    name = "providerAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An identity provider (Amazon Cognito) access token: `Authorization: Bearer <jwt>`.",
        }
