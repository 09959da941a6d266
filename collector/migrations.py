"""The collector's database schema, as versioned migrations.

Each migration runs once per database, in its own transaction, in the order
registered here, and is recorded in `_sqlite_migrations`. Never edit or
reorder a migration that has shipped: add a new one. Timestamps are TEXT in
the fixed shape described in model.py; JSON columns are TEXT.
"""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

from .health import stored_forms

MIGRATION_SET = "headcount-collector"

migrations = Migrations(MIGRATION_SET)


@migrations(name="0001_agents_devices_observations")
def create_initial_schema(db) -> None:
    db["agents"].create(
        {
            "agent_id": str,
            "site": str,
            "version": str,
            "hostname": str,
            "scanners": str,           # JSON list of scanner names
            "last_sequence": int,      # highest batch sequence stored; the duplicate filter
            "first_seen": str,
            "last_seen": str,          # last message of any kind
            "last_heartbeat": str,
            "host_facts": str,         # JSON of the newest HostFacts the agent reported
            "host_facts_at": str,      # its observed_at, so an old batch never overwrites newer facts
        },
        pk="agent_id",
        not_null=["site", "last_sequence", "first_seen", "last_seen"],
        defaults={"version": "", "hostname": "", "scanners": "[]", "last_sequence": 0},
    )
    db["agents"].create_index(["site"])

    db["devices"].create(
        {
            "id": int,
            "site": str,
            "mac": str,
            "ip": str,
            "ip_key": str,             # model.ip_sort_key(ip): lists devices in numeric IP order
            "vendor": str,
            "locally_administered": int,
            "hostname": str,
            "first_seen": str,
            "last_seen": str,
            "sources": str,            # JSON list of scanner names that have seen it
        },
        pk="id",
        not_null=["site", "mac", "ip", "ip_key", "vendor", "locally_administered", "hostname",
                  "first_seen", "last_seen", "sources"],
    )
    db["devices"].create_index(["site", "mac"], unique=True)
    db["devices"].create_index(["site", "ip_key", "mac"])
    db["devices"].create_index(["mac"])

    db["observations"].create(
        {
            "id": int,
            "site": str,
            "agent_id": str,
            "sequence": int,
            "kind": str,
            "scanner": str,
            "mac": str,                # normalised; '' when the observation is not about one MAC
            "observed_at": str,
            "received_at": str,
            "data": str,               # JSON of the observation's fields
        },
        pk="id",
        not_null=["site", "agent_id", "sequence", "kind", "scanner", "mac", "observed_at", "received_at", "data"],
    )
    db["observations"].create_index(["site", "mac"])
    db["observations"].create_index(["received_at"])   # retention prunes by the collector's clock
    db["observations"].create_index(["mac", "observed_at"])


@migrations(name="0002_network_devices_and_switch_ports")
def create_snmp_tables(db) -> None:
    # The newest SNMP identity of each device that answers SNMP, one row per (site, mac).
    db["network_devices"].create(
        {
            "site": str,
            "mac": str,
            "address": str,
            "vendor": str,
            "model": str,
            "serial": str,
            "firmware": str,
            "hardware_revision": str,
            "device_class": str,
            "sys_name": str,
            "sys_descr": str,
            "sys_object_id": str,
            "location": str,
            "port_count": int,
            "ports": str,              # JSON list of PortState fields
            "errors": str,             # JSON list of the probe's per-table problems
            "evidence": str,           # JSON list: which rule decided each identity field
            "observed_at": str,
        },
        pk=("site", "mac"),
        not_null=["site", "mac", "observed_at"],
    )
    db["network_devices"].create_index(["serial"])
    # Which switch port each end device's MAC was learned on, per switch; the
    # query picks the access port (fewest MACs) among the newest sightings.
    db["switch_ports"].create(
        {
            "site": str,
            "end_mac": str,
            "switch_mac": str,
            "switch_name": str,
            "switch_address": str,
            "port_name": str,
            "if_index": int,
            "vlan": int,
            "macs_on_port": int,
            "seen_at": str,
        },
        pk=("site", "end_mac", "switch_mac"),
        not_null=["site", "end_mac", "switch_mac", "seen_at"],
    )
    db["switch_ports"].create_index(["end_mac"])


@migrations(name="0003_merged_devices_classes_and_link_keys")
def create_merged_devices(db) -> None:
    # One physical device per site, however many MACs it used (identity.py
    # decides which). Only what changes when membership or class changes is
    # kept here; what every sighting moves (last_seen, IP) stays on the MAC
    # rows, so that a sweep refreshing 5,000 hosts rewrites one table, not two.
    # AUTOINCREMENT: an id given up in a merge is never handed to another
    # device, so an id an engineer noted stays unambiguous.
    db.execute(
        """
        CREATE TABLE merged_devices (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            site TEXT NOT NULL,
            macs INTEGER NOT NULL DEFAULT 1,          -- MAC rows in the device
            stable_macs INTEGER NOT NULL DEFAULT 0,   -- of which globally unique (burned in)
            device_class TEXT NOT NULL DEFAULT '',    -- newest class other than unknown among its MACs
            class_evidence TEXT NOT NULL DEFAULT '[]',
            classified_at TEXT NOT NULL DEFAULT '',
            link_evidence TEXT NOT NULL DEFAULT '[]'  -- why its MACs are one device, and links refused
        )
        """
    )
    # Each MAC row names its merged device and keeps the class it was given.
    # is_primary marks the device's newest MAC: the row a listing shows, so
    # that listing devices pages over the existing (site, ip_key, mac) index.
    db.execute("ALTER TABLE devices ADD COLUMN device_id INTEGER")
    db.execute("ALTER TABLE devices ADD COLUMN is_primary INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE devices ADD COLUMN device_class TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE devices ADD COLUMN class_evidence TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE devices ADD COLUMN classified_at TEXT NOT NULL DEFAULT ''")
    # Rows stored before merging existed are each their own device, under their row id.
    db.execute("INSERT INTO merged_devices (id, site, macs, stable_macs)"
               " SELECT id, site, 1, 1 - locally_administered FROM devices")
    db.execute("UPDATE devices SET device_id = id")
    db.execute("CREATE INDEX idx_devices_device_id ON devices (device_id)")
    # Link keys (identity.py): which MAC carried which key. Kept apart from
    # the grouping so that the grouping can be recomputed from them.
    db.execute(
        """
        CREATE TABLE device_keys (
            site TEXT NOT NULL,
            key TEXT NOT NULL,          -- host:<agent>, cid:<hex>, name:<normalised name or pseudonym>
            mac TEXT NOT NULL,
            kind TEXT NOT NULL,         -- host, client_id, name
            label TEXT NOT NULL,        -- the key as people read it
            sources TEXT NOT NULL,      -- JSON list: dhcp hostname, mdns host, dhcp client id, host facts
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (site, key, mac)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX idx_device_keys_site_mac ON device_keys (site, mac)")
    # Endpoint agents report their own host as a counted device.
    db.execute("ALTER TABLE agents ADD COLUMN mode TEXT NOT NULL DEFAULT ''")



@migrations(name="0004_assets_and_uniformity_snapshots")
def create_assets_and_snapshots(db) -> None:
    # Imported asset rows (assets.py), matched to a merged device. One row per
    # device and import format: a register row and a Google Admin row for one
    # Chromebook are both kept; importing the same format again replaces that
    # format's row. device_id is merged_devices.id (unique across sites), so
    # the inventory read joins on it by range. Dates are YYYY-MM-DD or ''.
    db.execute(
        """
        CREATE TABLE assets (
            device_id INTEGER NOT NULL,
            source_format TEXT NOT NULL,          -- asset_register, google_admin_chromeos, jamf_ipad
            site TEXT NOT NULL,
            serial TEXT NOT NULL DEFAULT '',
            asset_tag TEXT NOT NULL DEFAULT '',
            purchase_date TEXT NOT NULL DEFAULT '',
            warranty_end TEXT NOT NULL DEFAULT '',
            aue_date TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            os_version TEXT NOT NULL DEFAULT '',
            last_sync TEXT NOT NULL DEFAULT '',   -- timestamp as model.py shapes it, or ''
            school TEXT NOT NULL DEFAULT '',      -- the school the file names, as written
            matched_via TEXT NOT NULL DEFAULT '', -- "serial" or "mac aa:bb:..."
            file TEXT NOT NULL,
            line INTEGER NOT NULL,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (device_id, source_format)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX idx_assets_site ON assets (site, device_id)")
    db.execute("CREATE INDEX idx_assets_serial ON assets (serial)")
    # Dated uniformity results (uniformity.py), one row per school and one for
    # the district per evaluation, so trends show. JSON columns are TEXT.
    db.execute(
        """
        CREATE TABLE uniformity_snapshots (
            id INTEGER PRIMARY KEY,
            taken_at TEXT NOT NULL,
            scope TEXT NOT NULL CHECK (scope IN ('district', 'school')),
            school_id TEXT NOT NULL DEFAULT '',   -- '' for the district
            score REAL NOT NULL,
            parts TEXT NOT NULL,                  -- JSON of ScoreParts
            rules TEXT NOT NULL,                  -- JSON list of RuleResult
            strengths TEXT NOT NULL,              -- JSON list of sentences
            needs TEXT NOT NULL                   -- JSON list of sentences
        )
        """
    )
    db.execute("CREATE INDEX idx_snapshots_scope_school_taken ON uniformity_snapshots (scope, school_id, taken_at)")


@migrations(name="0005_flags")
def create_flags(db) -> None:
    # Offline, missing, agent-silent, refurbish and device-management flags
    # (flags.py, assets.management_findings) with their lifecycle: a row per
    # raise; cleared_at is NULL while the flag is open. device_id is the merged
    # device's id as text, or "agent:<site>" for an agent's flag. Timestamps
    # are shaped as model.py shapes them (fixed-width UTC text, ordered as time).
    db.execute(
        """
        CREATE TABLE flags (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            reason TEXT NOT NULL,
            evidence TEXT NOT NULL DEFAULT '[]',  -- JSON list of strings
            raised_at TEXT NOT NULL,
            cleared_at TEXT,                      -- NULL while open
            last_present_at TEXT NOT NULL         -- the last evaluation at which the condition held
        )
        """
    )
    db.execute("CREATE INDEX idx_flags_cleared_site ON flags (cleared_at, site)")
    db.execute("CREATE INDEX idx_flags_site_device_kind ON flags (site, device_id, kind)")


@migrations(name="0006_scans_and_device_health")
def create_scans_and_health(db) -> None:
    # One row per scan an agent finished (its ScanSummary): the polls that a
    # device missed are the scans of its site that began after it was last
    # seen. `network_poll` is 1 when the ARP sweep or the SNMP poll completed
    # (an endpoint's host-facts scan, or a sweep whose interface was down,
    # is no evidence that a device is gone).
    db.execute(
        """
        CREATE TABLE scans (
            agent_id TEXT NOT NULL,
            site TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            completed TEXT NOT NULL DEFAULT '[]',   -- JSON list of scanner names
            failed TEXT NOT NULL DEFAULT '[]',
            observations INTEGER NOT NULL DEFAULT 0,
            network_poll INTEGER NOT NULL,
            PRIMARY KEY (agent_id, started_at)
        )
        """
    )
    db.execute("CREATE INDEX idx_scans_site_poll_started ON scans (site, network_poll, started_at)")
    # health.fold_health's short history of each SNMP device: uptime and
    # interface-error samples, printer supplies, the UPS battery verdict.
    db.execute("ALTER TABLE network_devices ADD COLUMN health TEXT")


@migrations(name="0007_flag_evaluations")
def create_flag_evaluations(db) -> None:
    # One row per flag evaluation (district.evaluate). A flag whose
    # condition held at the latest evaluation keeps last_present_at NULL, so an
    # evaluation writes only the flags it changes, not every open flag: a
    # district has hundreds of thousands open and most hold run after run.
    # An explicit last_present_at is the last evaluation at which the
    # condition held, once it stops holding (the hold-down counts from it).
    db.execute(
        """
        CREATE TABLE flag_evaluations (
            id INTEGER PRIMARY KEY,
            evaluated_at TEXT NOT NULL,
            open_flags INTEGER NOT NULL
        )
        """
    )
    # Make last_present_at nullable. SQLite cannot drop NOT NULL in place, and DROP COLUMN needs SQLite 3.35
    # (older systems still ship 3.34): the table is rebuilt, the usual way, with its indexes.
    db.execute(
        """
        CREATE TABLE flags_0007 (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            reason TEXT NOT NULL,
            evidence TEXT NOT NULL DEFAULT '[]',  -- JSON list of strings
            raised_at TEXT NOT NULL,
            cleared_at TEXT,                      -- NULL while open
            last_present_at TEXT                  -- NULL: held at the latest evaluation (flag_evaluations)
        )
        """
    )
    db.execute("INSERT INTO flags_0007 (id, site, device_id, kind, reason, evidence, raised_at, cleared_at,"
               " last_present_at) SELECT id, site, device_id, kind, reason, evidence, raised_at, cleared_at,"
               " last_present_at FROM flags")
    db.execute("DROP TABLE flags")
    db.execute("ALTER TABLE flags_0007 RENAME TO flags")
    db.execute("CREATE INDEX idx_flags_cleared_site ON flags (cleared_at, site)")
    db.execute("CREATE INDEX idx_flags_site_device_kind ON flags (site, device_id, kind)")



@migrations(name="0008_merged_devices_site_index")
def index_merged_devices_by_site(db) -> None:
    # An evaluation reads a district in shares of some sites each (district.evaluate): with this index a
    # share's read starts from its own sites' devices instead of walking every device of the district.
    db.execute("CREATE INDEX idx_merged_devices_site ON merged_devices (site)")


@migrations(name="0009_device_health_digest")
def add_health_digest(db) -> None:
    # A device's health history is stored as its digest (health.health_digest), which an evaluation reads
    # without parsing or checking, and as JSON only when it has none (health.stored_forms). Histories stored
    # before are turned into theirs now.
    db.execute("ALTER TABLE network_devices ADD COLUMN health_digest BLOB")
    after = 0
    # In pieces: a district's histories are over a hundred megabytes of JSON.
    while rows := db.execute("SELECT rowid, health FROM network_devices WHERE rowid > ? AND health IS NOT NULL"
                             " ORDER BY rowid LIMIT 5000", [after]).fetchall():
        db.conn.executemany("UPDATE network_devices SET health = ?, health_digest = ? WHERE rowid = ?",
                            [(*stored_forms(stored), rowid) for rowid, stored in rows])
        after = rows[-1][0]


@migrations(name="0010_assets_site_index_covers_the_evaluation")
def cover_assets_by_site(db) -> None:
    # An evaluation reads every asset row of its sites (a district has hundreds of thousands) for the columns
    # it merges: in this index they are read with it, not looked up in the table row by row. It replaces the
    # index on (site, device_id), which it begins with.
    db.execute("CREATE INDEX idx_assets_site_merged ON assets"
               " (site, device_id, source_format, model, os_version, purchase_date, aue_date, last_sync)")
    db.execute("DROP INDEX idx_assets_site")


def apply_migrations(db) -> list[str]:
    """Apply what is pending; returns the names applied now (empty when the schema is current)."""
    pending = [migration.name for migration in migrations.pending(db)]
    migrations.apply(db)
    return pending


def applied_migrations(db) -> list[str]:
    return [migration.name for migration in migrations.applied(db)]
