"""code_review: bug type of a one-line snippet; 'none' is clean code or a bug's fixed twin."""

from __future__ import annotations

import random

from loratune.tasks.base import DomainSpec
from loratune.tasks.domains.helpers import fill, instruction
from loratune.tasks.registry import register

CODE_LABELS = (
    "sql_injection",
    "off_by_one",
    "null_dereference",
    "resource_leak",
    "hardcoded_secret",
    "none",
)
# Each bug as (buggy, fixed); `none` draws the fixed version of any bug.
CODE_PAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "sql_injection": (
        (
            'cur.execute("SELECT * FROM $tbl WHERE $col = \'" + $var + "\'")',
            'cur.execute("SELECT * FROM $tbl WHERE $col = %s", ($var,))',
        ),
        (
            'db.execute(f"DELETE FROM $tbl WHERE $col = {$var}")',
            'db.execute("DELETE FROM $tbl WHERE $col = ?", [$var])',
        ),
        (
            "sql = \"UPDATE $tbl SET $col = '%s'\" % $var; cur.execute(sql)",
            'sql = "UPDATE $tbl SET $col = %s"; cur.execute(sql, ($var,))',
        ),
        (
            'rows = conn.execute("SELECT id FROM $tbl WHERE $col = " + request.args["$col"])',
            'rows = conn.execute("SELECT id FROM $tbl WHERE $col = ?", (request.args["$col"],))',
        ),
        (
            'q = "SELECT * FROM $tbl WHERE $col LIKE \'%" + $var + "%\'"; db.raw(q)',
            'q = "SELECT * FROM $tbl WHERE $col LIKE ?"; db.raw(q, [f"%{$var}%"])',
        ),
        (
            "conn.execute(\"INSERT INTO $tbl ($col) VALUES ('{}')\".format($var))",
            'conn.execute("INSERT INTO $tbl ($col) VALUES (?)", ($var,))',
        ),
        (
            'return Model.objects.raw("SELECT * FROM $tbl WHERE $col = " + $var)',
            "return Model.objects.filter($col=$var)",
        ),
        (
            'cur.executescript("DROP TABLE IF EXISTS " + $var)',
            'cur.executescript("DROP TABLE IF EXISTS " + ALLOWED[$var])',
        ),
    ),
    "off_by_one": (
        (
            "for i in range(len($xs) + 1): total += $xs[i]",
            "for i in range(len($xs)): total += $xs[i]",
        ),
        ("last = $xs[len($xs)]", "last = $xs[len($xs) - 1]"),
        (
            "i = 0; while i <= len($xs): out.append($xs[i]); i += 1",
            "i = 0; while i < len($xs): out.append($xs[i]); i += 1",
        ),
        ("def first_n($xs, n): return $xs[: n - 1]", "def first_n($xs, n): return $xs[:n]"),
        (
            "for i in range(len($xs)): if $xs[i] > $xs[i + 1]: swap($xs, i)",
            "for i in range(len($xs) - 1): if $xs[i] > $xs[i + 1]: swap($xs, i)",
        ),
        ("page = $xs[start : start + size + 1]", "page = $xs[start : start + size]"),
        (
            "for day in range(1, days_in_month): book(day)",
            "for day in range(1, days_in_month + 1): book(day)",
        ),
        (
            "total = 0; for i in range(1, len($xs)): total += $xs[i]",
            "total = 0; for i in range(0, len($xs)): total += $xs[i]",
        ),
    ),
    "null_dereference": (
        (
            "user = repo.find($var); return user.email",
            "user = repo.find($var); return user.email if user else None",
        ),
        (
            "m = re.match(PATTERN, $var); return m.group(1)",
            'm = re.match(PATTERN, $var); return m.group(1) if m else ""',
        ),
        (
            'hosts = os.environ.get("$env"); return hosts.split(",")',
            'hosts = os.environ.get("$env", ""); return hosts.split(",")',
        ),
        (
            "node = cache.get($var); node.touch(); return node",
            "node = cache.get($var); if node is not None: node.touch(); return node",
        ),
        (
            "row = cur.fetchone(); return row[0]",
            "row = cur.fetchone(); return row[0] if row else 0",
        ),
        (
            "item = next((x for x in $xs if x.id == $var), None); return item.price",
            "item = next((x for x in $xs if x.id == $var), None); return item.price if item else 0",
        ),
        (
            'name = payload.get("$col"); return name.strip()',
            'name = payload.get("$col") or ""; return name.strip()',
        ),
        (
            'el = soup.find("div", id="$col"); return el.text',
            'el = soup.find("div", id="$col"); return el.text if el else ""',
        ),
    ),
    "resource_leak": (
        (
            "f = open($path); data = f.read(); return data",
            "with open($path) as f: return f.read()",
        ),
        (
            "conn = sqlite3.connect($path); return conn.execute(Q).fetchall()",
            "with closing(sqlite3.connect($path)) as conn: return conn.execute(Q).fetchall()",
        ),
        (
            "sock = socket.create_connection((HOST, $port)); sock.sendall($var)",
            "with socket.create_connection((HOST, $port)) as sock: sock.sendall($var)",
        ),
        (
            'fh = open($path, "w"); fh.write(report)',
            'with open($path, "w") as fh: fh.write(report)',
        ),
        ("lock.acquire(); update($xs)", "with lock: update($xs)"),
        (
            "f = open($path); if not f.readline(): return None; f.close()",
            "with open($path) as f: if not f.readline(): return None",
        ),
        (
            "img = Image.open($path); return img.size",
            "with Image.open($path) as img: return img.size",
        ),
        (
            "tmp = tempfile.NamedTemporaryFile(delete=False); tmp.write($var)",
            "with tempfile.NamedTemporaryFile() as tmp: tmp.write($var)",
        ),
    ),
    "hardcoded_secret": (
        ('API_KEY = "sk_live_$hex"', 'API_KEY = os.environ["API_KEY"]'),
        (
            'db = connect(host="$host", user="admin", password="$pw")',
            'db = connect(host="$host", user="admin", password=os.environ["DB_PASSWORD"])',
        ),
        (
            'headers = {"Authorization": "Bearer $hex"}',
            'headers = {"Authorization": f"Bearer {settings.TOKEN}"}',
        ),
        (
            'AWS_SECRET_ACCESS_KEY = "$hex"',
            'AWS_SECRET_ACCESS_KEY = os.getenv("AWS_SECRET_ACCESS_KEY")',
        ),
        ('gh = Github("ghp_$hex")', 'gh = Github(os.environ["GITHUB_TOKEN"])'),
        (
            'smtp.login("alerts@$host", "$pw")',
            'smtp.login("alerts@$host", vault.read("smtp_password"))',
        ),
        ('JWT_SECRET = "$pw"', 'JWT_SECRET = config.require("JWT_SECRET")'),
        ('stripe.api_key = "sk_test_$hex"', "stripe.api_key = settings.STRIPE_KEY"),
    ),
}
# Correct code with no bug twin, for the other half of `none`.
CODE_CLEAN = (
    "return sum($xs) / max(len($xs), 1)",
    "$var = $var.lower().strip()",
    "total = sum(x.price for x in $xs)",
    "return sorted($xs, key=lambda x: x.$col)",
    "if not $xs: return []; return [x.$col for x in $xs]",
    'logger.info("synced %d $tbl", len($xs))',
    "return {x.id: x for x in $xs}",
    "$var = int($var) if $var.isdigit() else 0",
    "return datetime.now(timezone.utc).isoformat()",
    "counts = Counter(x.$col for x in $xs)",
    "return [x for x in $xs if x.$col is not None]",
    "return json.dumps({'$col': $var}, sort_keys=True)",
)
CODE_LEADS = (
    "def $fn($var): ",
    "def $fn(self, $var): ",
    'log.debug("$fn called"); ',
    "start = time.time(); ",
    "$var = $var.strip(); ",
    "",
    "",
)
# Comments appear on buggy and fixed code alike, so they carry no label information.
CODE_COMMENTS = (
    "  # TODO: add tests",
    "  # reviewed by $who",
    "  # safe",
    "  # see ticket $n",
    "  # handles None",
    "  # fast path",
    "",
    "",
    "",
)


def _code_sample(rng: random.Random) -> tuple[str, str]:
    """Bug type of a one-line snippet; half of `none` is the fixed twin of a bug, so surface
    forms (execute, open, environ) do not always decide the label."""
    label = rng.choice(CODE_LABELS)
    kind = rng.choice(CODE_LABELS[:-1]) if label == "none" else label
    buggy, fixed = rng.choice(CODE_PAIRS[kind])
    if label == "none" and rng.random() < 0.5:
        fixed = rng.choice(CODE_CLEAN)
    v = {
        "fn": rng.choice(("load", "get_user", "fetch_rows", "handle", "sync", "export", "lookup")),
        "var": rng.choice(("uid", "name", "email", "sku", "term", "key", "payload_id", "slug")),
        "tbl": rng.choice(("users", "orders", "invoices", "accounts", "products", "events")),
        "col": rng.choice(("id", "email", "name", "status", "owner", "region")),
        "xs": rng.choice(("items", "rows", "scores", "prices", "nodes", "lines")),
        "path": rng.choice(("path", "cfg_path", "fname", "log_file", "db_path", "src")),
        "env": rng.choice(("ALLOWED_HOSTS", "PEERS", "BROKERS", "ORIGINS")),
        "port": str(rng.choice((443, 5432, 6379, 8080, 9000))),
        "host": rng.choice(("db.internal", "10.0.3.7", "mail.acme.io", "pg-prod")),
        "hex": "".join(rng.choice("0123456789abcdef") for _ in range(12)),
        "pw": rng.choice(("Summer", "hunter", "Winter", "admin", "Dragon"))
        + str(rng.randint(10, 99)),
        "who": rng.choice(("ana", "li", "omar", "jo")),
        "n": str(rng.randint(100, 999)),
    }
    code = (
        rng.choice(CODE_LEADS) + (fixed if label == "none" else buggy) + rng.choice(CODE_COMMENTS)
    )
    return fill(code, v), label


register(
    DomainSpec(
        "code_review",
        "classification",
        instruction("bug in the code", CODE_LABELS),
        _code_sample,
        CODE_LABELS,
        "bug type of a one-line snippet; 'none' is clean code or a bug's fixed twin",
    )
)
