"""The documented defaults of every setting; each can be set in instance/kasir.toml or as KASIR_<NAME>."""

# Each entry: name -> (default, description). The type of the default is the type of the setting:
# environment variables are converted to it (booleans accept 1/0, true/false, ya/tidak).
SETTINGS: dict[str, tuple[object, str]] = {
    "env": ("development", "development or production; production refuses demo data and insecure settings"),
    "cooperative_name": (
        "Koperasi Kelurahan Merah Putih Kelayan Timur",
        "the cooperative's legal name, printed on receipts and reports",
    ),
    "cooperative_address": ("Jl. Kelayan A, Kelayan Timur, Banjarmasin Selatan", "street address"),
    "cooperative_city": ("Banjarmasin", "city or regency"),
    "npwp": ("", "tax number (NPWP); printed on receipts when the cooperative is PKP"),
    "tax_status": ("non_pkp", "pkp (VAT-registered, charges PPN) or non_pkp (charges none)"),
    "ppn_rate_percent": (11, "effective PPN on standard goods in percent (12% x 11/12 DPP)"),
    "outlets": ([], "outlet codes this server serves; empty means every outlet in the database"),
    "timezone": (
        "Asia/Makassar",
        "outlets' default timezone: Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT)",
    ),
    "currency_symbol": ("Rp", "shown before amounts, as in Rp 12.500"),
    "default_locale": ("id", "interface language for new users and the login page: id or en"),
    "receipt_header": ("Terima kasih telah berbelanja di koperasi anggota", "line under the header of every receipt"),
    "receipt_footer": ("Barang yang sudah dibeli dapat ditukar dengan struk dalam 3 hari", "footer of every receipt"),
    "idle_timeout_minutes": (30, "a signed-in session that sees no request for this long is signed out"),
    "login_max_failures": (5, "wrong passwords or PINs in a row before an account is locked for a while"),
    "login_lock_minutes": (15, "how long such a lock lasts"),
    "session_cookie_secure": (False, "send the session cookie over HTTPS only (set when served behind TLS)"),
    "password_hash_method": ("scrypt", "werkzeug password hash method"),
    "negative_stock_outlets": ([], "outlets that may sell goods not tracked by batch below zero (default: none)"),
    "cash_rounding": (
        "off",
        "an all-cash total rounded to Rp 100: off, down (never against the customer) or nearest (halves up)",
    ),
    "devices_autostart": (True, "the server starts print workers and serial scanners with its first request"),
    "printer_networks": (
        ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "::1/128", "fc00::/7",
         "fe80::/10"],
        "networks (CIDR) a network printer may be on; a printer given by name needs a local name (kasir1, x.local)",
    ),
    "printer_ports": ([9100, 9101, 9102], "TCP ports a network printer may use (raw printing; empty: none)"),
    "cash_account_per_till": (False, "keep a cash account per till instead of one per outlet (ledger init)"),
    "savings_outlet": ("SP", "outlet whose cash desk takes savings deposits, withdrawals and kasbon repayments"),
    "simpanan_pokok_amount": (100_000, "simpanan pokok in rupiah, paid once on joining"),
    "simpanan_wajib_amount": (20_000, "simpanan wajib in rupiah, due every month from the joining month"),
    "kasbon_limit_percent": (50, "kasbon limit as a percentage of the member's savings (pokok + wajib + sukarela)"),
    "kasbon_limit_max": (1_000_000, "kasbon limit ceiling in rupiah, whatever the savings"),
    "future_days": (
        7,
        "how many days after today an entry, goods receipt, transfer, write-off or slip may be dated (0: none)",
    ),
    "shu_capital_savings": (["pokok", "wajib"], "savings that count for jasa modal in the SHU"),
    "database_url": ("", "SQLAlchemy URL; empty means instance/kasir.db (SQLite). DATABASE_URL also sets it"),
    "secret_key": ("", "signing key; empty means generated once into instance/secret_key"),
}

TIMEZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
LOCALES = ("id", "en")
TAX_STATUSES = ("pkp", "non_pkp")
CASH_ROUNDING = ("off", "down", "nearest")
ENVIRONMENTS = ("development", "production")
