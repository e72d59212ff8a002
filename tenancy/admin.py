from django.contrib import admin

from tenancy.models import Account, ApiToken, Membership, Organization


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "is_demo", "created_at"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "account"]
    list_filter = ["account"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role", "all_organizations"]
    list_filter = ["account", "role"]
    filter_horizontal = ["organizations"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["__str__", "user", "account", "scope", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_id", "key_hash"]
