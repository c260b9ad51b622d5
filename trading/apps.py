from django.apps import AppConfig


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = "Trading"

    def ready(self) -> None:
        # Every new user gets a paper-money account with the opening cash, in the transaction
        # that creates them: accounts runs the step, trading owns it (accounts cannot import trading).
        from accounts.onboarding import onboarding_step_register
        from trading.services import account_open

        onboarding_step_register(account_open)

        # Keep Stock.restricted and the cached visibility in step with the restriction groups.
        from trading import visibility

        visibility.connect()
