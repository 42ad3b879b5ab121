// The Grafana dashboard shipped with the chart (chart/files/dashboard.json, written by scripts/generate.ts), typed
// against Grafana's published dashboard schema (@grafana/schema, a devDependency: this module is never loaded at run
// time). test/unit/dashboard.test.ts has promtool parse every query and holds each metric name to the registries.
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  DashboardCursorSync,
  FieldColorModeId,
  GraphDrawStyle,
  LegendDisplayMode,
  MappingType,
  PercentChangeColorMode,
  SortOrder,
  StackingMode,
  ThresholdsMode,
  TooltipDisplayMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
  VisibilityMode,
  VizOrientation,
  type Dashboard,
  type DataQuery,
  type DataSourceRef,
  type GridPos,
  type Panel,
  type RowPanel,
  type ThresholdsConfig,
  type ValueMapping,
  type VariableModel,
} from "@grafana/schema";
import type { Options as StatOptions } from "@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen";
import type {
  FieldConfig as StateTimelineFieldConfig,
  Options as StateTimelineOptions,
} from "@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen";
import type {
  FieldConfig as TimeSeriesFieldConfig,
  Options as TimeSeriesOptions,
} from "@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";

export const DASHBOARD_UID = "zonesync";

/** Every query runs on the data source the `datasource` variable picks. */
const DATASOURCE: DataSourceRef = { type: "prometheus", uid: "${datasource}" };

/** A Prometheus query of a panel (the Prometheus data source's query model; the schema types only its base). */
export type PromTarget = {
  refId: string;
  datasource: DataSourceRef;
  expr: string;
  legendFormat: string;
  /** An instant query (stat panels: the value now), else a range query. */
  instant?: boolean;
  range?: boolean;
};
/** Fails to compile unless A is assignable to B. */
type Extends<A extends B, B> = A;
// A PromTarget is a DataQuery of Grafana's schema.
type _PromTargetIsDataQuery = Extends<PromTarget, DataQuery>;

type Query = { expr: string; legend: string };

function targets(queries: Query[], instant = false): PromTarget[] {
  return queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DATASOURCE,
    expr: q.expr,
    legendFormat: q.legend,
    ...(instant ? { instant: true, range: false } : {}),
  }));
}

/** Where a panel goes: its size; the layout places it. */
interface Sized<P = Panel> {
  panel: P;
  w: number;
  h: number;
}

const thresholds = (...steps: Array<[number | null, string]>): ThresholdsConfig => ({
  mode: ThresholdsMode.Absolute,
  steps: steps.map(([value, color]) => ({ value, color })),
});

/** Value → text and colour, for 0/1 gauges. */
function states(...map: Array<[number, string, string]>): ValueMapping[] {
  return [
    {
      type: MappingType.ValueToText,
      options: Object.fromEntries(map.map(([value, text, color], index) => [String(value), { text, color, index }])),
    },
  ];
}

interface TimeSeriesSpec {
  title: string;
  description: string;
  queries: Query[];
  unit: string;
  w?: number;
  stacked?: boolean;
  bars?: boolean;
}

// Each builder types a panel's options and custom field config with the panel plugin's own schema types, then spreads
// them into the open records (Record<string, unknown>) the dashboard schema has for them.

function timeseries(spec: TimeSeriesSpec): Sized<Panel> {
  const custom: TimeSeriesFieldConfig = {
    drawStyle: spec.bars ? GraphDrawStyle.Bars : GraphDrawStyle.Line,
    lineWidth: 1,
    fillOpacity: spec.stacked || spec.bars ? 60 : 10,
    showPoints: VisibilityMode.Never,
    spanNulls: false,
    stacking: { mode: spec.stacked ? StackingMode.Normal : StackingMode.None, group: "A" },
  };
  const options: TimeSeriesOptions = {
    legend: { showLegend: true, displayMode: LegendDisplayMode.List, placement: "bottom", calcs: [] },
    tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
  };
  return {
    w: spec.w ?? 12,
    h: 8,
    panel: {
      type: "timeseries",
      title: spec.title,
      description: spec.description,
      datasource: DATASOURCE,
      targets: targets(spec.queries),
      fieldConfig: {
        defaults: { unit: spec.unit, min: 0, color: { mode: FieldColorModeId.PaletteClassic }, custom: { ...custom } },
        overrides: [],
      },
      options: { ...options },
    },
  };
}

interface StatSpec {
  title: string;
  description: string;
  queries: Query[];
  unit?: string;
  mappings?: ValueMapping[];
  thresholds: ThresholdsConfig;
  w?: number;
}

function stat(spec: StatSpec): Sized<Panel> {
  const options: StatOptions = {
    reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
    orientation: VizOrientation.Auto,
    textMode: BigValueTextMode.ValueAndName,
    colorMode: BigValueColorMode.Background,
    graphMode: BigValueGraphMode.None,
    justifyMode: BigValueJustifyMode.Auto,
    showPercentChange: false,
    percentChangeColorMode: PercentChangeColorMode.Standard,
    wideLayout: true,
  };
  return {
    w: spec.w ?? 6,
    h: 6,
    panel: {
      type: "stat",
      title: spec.title,
      description: spec.description,
      datasource: DATASOURCE,
      targets: targets(spec.queries, true),
      fieldConfig: {
        defaults: {
          ...(spec.unit ? { unit: spec.unit } : {}),
          mappings: spec.mappings ?? [],
          thresholds: spec.thresholds,
          color: { mode: FieldColorModeId.Thresholds },
        },
        overrides: [],
      },
      options: { ...options },
    },
  };
}

function stateTimeline(spec: {
  title: string;
  description: string;
  queries: Query[];
  mappings: ValueMapping[];
  thresholds: ThresholdsConfig;
}): Sized<Panel> {
  const custom: StateTimelineFieldConfig = { fillOpacity: 80, lineWidth: 0 };
  const options: StateTimelineOptions = {
    rowHeight: 0.8,
    showValue: VisibilityMode.Never,
    mergeValues: true,
    legend: { showLegend: false, displayMode: LegendDisplayMode.List, placement: "bottom", calcs: [] },
    tooltip: { mode: TooltipDisplayMode.Single, sort: SortOrder.None },
  };
  return {
    w: 24,
    h: 6,
    panel: {
      type: "state-timeline",
      title: spec.title,
      description: spec.description,
      datasource: DATASOURCE,
      targets: targets(spec.queries),
      fieldConfig: {
        defaults: {
          mappings: spec.mappings,
          thresholds: spec.thresholds,
          color: { mode: FieldColorModeId.Thresholds },
          custom: { ...custom },
        },
        overrides: [],
      },
      options: { ...options },
    },
  };
}

/** p50, p90 and p99 of a histogram per link. */
function quantiles(bucket: string, by = "link", filter = '{link=~"$link"}'): Query[] {
  return [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (${by}, le) (rate(${bucket}${filter}[$__rate_interval])))`,
    legend: `{{${by}}} p${Math.round(q * 100)}`,
  }));
}

/** The leader's value of a per-replica link gauge (the leader is the replica that writes the mirrors). */
const leaderView = (metric: string) =>
  `max by (link) (${metric}{link=~"$link"} and zonesync_mirror_leader{link=~"$link"} == 1)`;

const GREEN = "green";
const RED = "red";
const ORANGE = "orange";
const DAY = 86_400;

const rows: Array<{ title: string; panels: Array<Sized<Panel>> }> = [
  {
    title: "Links",
    panels: [
      stat({
        title: "Ready",
        description: "The ZoneSyncLink's Ready condition as the manager writes it (zonesync_manager_link_ready).",
        queries: [{ expr: 'max by (link) (zonesync_manager_link_ready{link=~"$link"})', legend: "{{link}}" }],
        mappings: states([1, "Ready", GREEN], [0, "not Ready", RED]),
        thresholds: thresholds([null, RED], [1, GREEN]),
      }),
      stat({
        title: "Target reachable",
        description: "Whether the leading link controller has working watches on the target cluster.",
        queries: [{ expr: leaderView("zonesync_mirror_target_reachable"), legend: "{{link}}" }],
        mappings: states([1, "reachable", GREEN], [0, "unreachable", RED]),
        thresholds: thresholds([null, RED], [1, GREEN]),
      }),
      stat({
        title: "Endpoints",
        description:
          "Stale: the target has been unreachable past the link's staleAfter and the mirrored endpoints are marked " +
          "not ready.",
        queries: [{ expr: leaderView("zonesync_mirror_stale"), legend: "{{link}}" }],
        mappings: states([0, "fresh", GREEN], [1, "stale", RED]),
        thresholds: thresholds([null, GREEN], [1, RED]),
      }),
      stat({
        title: "Leader",
        description:
          "Replicas that hold the link's Lease: 1 is right; 0 means nothing updates the mirrors. More than one " +
          "only for a scrape during a handover.",
        queries: [{ expr: 'sum by (link) (zonesync_mirror_leader{link=~"$link"})', legend: "{{link}}" }],
        mappings: states([0, "no leader", RED], [1, "led", GREEN]),
        thresholds: thresholds([null, RED], [1, GREEN], [2, ORANGE]),
      }),
      stateTimeline({
        title: "Target reachable over time",
        description: "The leading link controller's view of its target cluster, per link.",
        queries: [{ expr: leaderView("zonesync_mirror_target_reachable"), legend: "{{link}}" }],
        mappings: states([1, "reachable", GREEN], [0, "unreachable", RED]),
        thresholds: thresholds([null, RED], [1, GREEN]),
      }),
    ],
  },
  {
    title: "Lag",
    panels: [
      timeseries({
        title: "End-to-end lag (change in the target → mirror shows it)",
        description:
          "From the target EndpointSlice's last-change-trigger-time (stamped by the target's EndpointSlice " +
          "controller) to the mirrored EndpointSlice showing the change: p50, p90, p99 per link. It includes the " +
          "clock offset between the two clusters.",
        queries: quantiles("zonesync_mirror_e2e_lag_seconds_bucket"),
        unit: "s",
      }),
      timeseries({
        title: "Sync lag (target event received → local writes done)",
        description:
          "The link controller's own share of the lag: from receiving a target watch event to the end of the " +
          "local writes it caused. p50, p90, p99 per link.",
        queries: quantiles("zonesync_mirror_sync_lag_seconds_bucket"),
        unit: "s",
      }),
    ],
  },
  {
    title: "Mirrors",
    panels: [
      timeseries({
        title: "Mirrored services",
        description: "Services mirrored from each link's target cluster.",
        queries: [{ expr: 'max by (link) (zonesync_mirror_services{link=~"$link"})', legend: "{{link}}" }],
        unit: "short",
        w: 8,
      }),
      timeseries({
        title: "Mirrored endpoints",
        description: "Endpoint addresses in the mirrored EndpointSlices.",
        queries: [{ expr: 'max by (link) (zonesync_mirror_endpoints{link=~"$link"})', legend: "{{link}}" }],
        unit: "short",
        w: 8,
      }),
      timeseries({
        title: "Not mirrored",
        description:
          "What the target exports that is not mirrored now: dropped data by reason, Services past the link's " +
          "maxServices, and mirrors held back by a name conflict with a local object.",
        queries: [
          {
            expr: 'max by (link, reason) (zonesync_mirror_dropped{link=~"$link"}) > 0',
            legend: "{{link}} dropped {{reason}}",
          },
          {
            expr: 'max by (link) (zonesync_mirror_services_over_cap{link=~"$link"}) > 0',
            legend: "{{link}} over maxServices",
          },
          {
            expr: 'max by (link) (zonesync_mirror_name_conflicts{link=~"$link"}) > 0',
            legend: "{{link}} name conflicts",
          },
        ],
        unit: "short",
        w: 8,
      }),
      timeseries({
        title: "Writes to this cluster",
        description: "Writes of the link controllers to the local API server, by verb and resource.",
        queries: [
          {
            expr: 'sum by (link, verb, resource) (rate(zonesync_mirror_writes_total{link=~"$link"}[$__rate_interval]))',
            legend: "{{link}} {{verb}} {{resource}}",
          },
        ],
        unit: "wps",
        w: 12,
        stacked: true,
      }),
      timeseries({
        title: "Errors by kind",
        description:
          "Link controller errors by kind: target-* (the target cluster), local-* (this cluster's API server), " +
          "credentials, renewal, status, invalid-spec, cleanup.",
        queries: [
          {
            expr: 'sum by (link, kind) (rate(zonesync_mirror_errors_total{link=~"$link"}[$__rate_interval]))',
            legend: "{{link}} {{kind}}",
          },
        ],
        unit: "ops",
        w: 12,
        stacked: true,
      }),
    ],
  },
  {
    title: "Credentials",
    panels: [
      stat({
        title: "Target token expires in",
        description:
          "Time left on the token each link uses on its target. The controller renews it at 80% of its lifetime " +
          "(6 days left for a 30-day token); red below a day, orange below 3 days.",
        queries: [
          {
            expr: 'min by (link) (zonesync_mirror_credentials_expiry_timestamp_seconds{link=~"$link"}) - time()',
            legend: "{{link}}",
          },
        ],
        unit: "dtdurations",
        thresholds: thresholds([null, RED], [DAY, ORANGE], [3 * DAY, GREEN]),
        w: 8,
      }),
      timeseries({
        title: "Target token lifetime left",
        description: "The same over time: a renewal shows as a jump back up to the token's full lifetime.",
        queries: [
          {
            expr: 'min by (link) (zonesync_mirror_credentials_expiry_timestamp_seconds{link=~"$link"}) - time()',
            legend: "{{link}}",
          },
        ],
        unit: "dtdurations",
        w: 16,
      }),
    ],
  },
  {
    title: "Manager",
    panels: [
      stat({
        title: "Manager leader",
        description: "Manager replicas holding the zonesync-manager Lease.",
        queries: [{ expr: "sum(zonesync_manager_leader)", legend: "leaders" }],
        mappings: states([0, "no leader", RED], [1, "led", GREEN]),
        thresholds: thresholds([null, RED], [1, GREEN], [2, ORANGE]),
        w: 4,
      }),
      stat({
        title: "Release recoveries",
        description: "Releases found stuck in pending-* and rolled back, in the dashboard's time range.",
        queries: [{ expr: "sum(increase(zonesync_manager_release_recoveries_total[$__range]))", legend: "recoveries" }],
        thresholds: thresholds([null, GREEN], [1, ORANGE]),
        w: 4,
      }),
      timeseries({
        title: "Helm upgrades by result",
        description:
          "Release reconciles: done (helm upgrade ran), skipped (values unchanged), failed (retried with backoff).",
        queries: [
          {
            expr: "sum by (result) (increase(zonesync_manager_helm_upgrades_total[$__rate_interval]))",
            legend: "{{result}}",
          },
        ],
        unit: "short",
        w: 8,
        bars: true,
        stacked: true,
      }),
      timeseries({
        title: "Release reconcile duration",
        description: "How long a reconcile of the release takes (a helm upgrade when the values changed).",
        queries: quantiles("zonesync_manager_reconcile_duration_seconds_bucket", "key", '{key="release"}'),
        unit: "s",
        w: 8,
      }),
      timeseries({
        title: "Zone-sync: invalid keys",
        description: "Invalid zone-sync keys in each NGINX ConfigMap the manager reads (the last valid config stays).",
        queries: [{ expr: "max by (workload) (zonesync_zone_sync_invalid_keys)", legend: "{{workload}}" }],
        unit: "short",
        w: 24,
      }),
    ],
  },
  {
    title: "Multi-Cluster Services",
    panels: [
      stat({
        title: "MCS controller leader",
        description: "MCS controller replicas holding the zonesync-mcs Lease (none when mcs.enabled is off).",
        queries: [{ expr: "sum(zonesync_mcs_leader)", legend: "leaders" }],
        mappings: states([0, "no leader", RED], [1, "led", GREEN]),
        thresholds: thresholds([null, RED], [1, GREEN], [2, ORANGE]),
        w: 4,
      }),
      stat({
        title: "ServiceImports",
        description: "ServiceImports the MCS controller keeps in this cluster.",
        queries: [{ expr: "max(zonesync_mcs_service_imports)", legend: "imports" }],
        thresholds: thresholds([null, GREEN]),
        w: 4,
      }),
      timeseries({
        title: "Local ServiceExports by state",
        description: "This cluster's ServiceExports: valid, invalid (Valid=False) and conflicted (Conflict=True).",
        queries: [{ expr: "max by (state) (zonesync_mcs_service_exports)", legend: "{{state}}" }],
        unit: "short",
        w: 16,
      }),
    ],
  },
  {
    title: "Work queues",
    panels: [
      timeseries({
        title: "Queue depth",
        description: "Keys ready for a worker, per queue (the manager's, and each link controller's).",
        queries: [{ expr: "max by (queue, link) (zonesync_workqueue_depth)", legend: "{{queue}} {{link}}" }],
        unit: "short",
        w: 8,
      }),
      timeseries({
        title: "Queue adds and retries",
        description: "Keys added, and keys re-queued with backoff after a failure.",
        queries: [
          {
            expr: "sum by (queue, link) (rate(zonesync_workqueue_adds_total[$__rate_interval]))",
            legend: "{{queue}} {{link}} adds",
          },
          {
            expr: "sum by (queue, link) (rate(zonesync_workqueue_retries_total[$__rate_interval]))",
            legend: "{{queue}} {{link}} retries",
          },
        ],
        unit: "ops",
        w: 8,
      }),
      timeseries({
        title: "Queue wait (p99)",
        description: "How long a key waited between becoming ready and a worker taking it.",
        queries: [
          {
            expr: "histogram_quantile(0.99, sum by (queue, link, le) (rate(zonesync_workqueue_queue_duration_seconds_bucket[$__rate_interval])))",
            legend: "{{queue}} {{link}}",
          },
        ],
        unit: "s",
        w: 8,
      }),
    ],
  },
];

/** Rows and their panels, placed left to right and wrapped at Grafana's 24 columns, with ids in order. */
function layout(): Array<Panel | RowPanel> {
  const panels: Array<Panel | RowPanel> = [];
  let y = 0;
  let id = 1;
  for (const row of rows) {
    const rowPanel: RowPanel = {
      type: "row",
      id: id++,
      title: row.title,
      collapsed: false,
      gridPos: { x: 0, y, w: 24, h: 1 },
      panels: [],
    };
    panels.push(rowPanel);
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const { panel, w, h } of row.panels) {
      if (x + w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      const gridPos: GridPos = { x, y, w, h };
      panels.push({ ...panel, id: id++, gridPos });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return panels;
}

const variables: VariableModel[] = [
  {
    name: "datasource",
    label: "Data source",
    type: "datasource",
    query: "prometheus",
    hide: VariableHide.dontHide,
    refresh: VariableRefresh.onDashboardLoad,
    regex: "",
    skipUrlSync: false,
  },
  {
    name: "link",
    label: "Link",
    type: "query",
    datasource: DATASOURCE,
    query: "label_values(zonesync_mirror_leader, link)",
    refresh: VariableRefresh.onTimeRangeChanged,
    includeAll: true,
    allValue: ".*",
    multi: true,
    sort: VariableSort.alphabeticalAsc,
    hide: VariableHide.dontHide,
    regex: "",
    skipUrlSync: false,
  },
];

/** The dashboard, as Grafana's schema types it. */
export function dashboard(): Dashboard {
  return {
    uid: DASHBOARD_UID,
    title: "zonesync",
    description:
      "Per-link state, lag, mirrors, errors and credentials of zonesync's link controllers; helm upgrades, " +
      "zone-sync and work queues of its manager.",
    tags: ["zonesync", "multicluster"],
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    schemaVersion: 39,
    time: { from: "now-6h", to: "now" },
    refresh: "30s",
    timezone: "browser",
    fiscalYearStartMonth: 0,
    liveNow: false,
    links: [],
    annotations: { list: [] },
    templating: { list: variables },
    panels: layout(),
  };
}
