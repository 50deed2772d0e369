// The few kinds of panel the shop's dashboards use, built with Grafana's foundation SDK so
// that a panel that does not fit Grafana's schema does not compile. Every panel queries the
// provisioned Prometheus data source (uid `prometheus`).
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";

/** The data source of grafana/provisioning/datasources/prometheus.yml. */
export const DATASOURCE: dashboard.DataSourceRef = { type: "prometheus", uid: "prometheus" };

/** The four processes of the shop, as a PromQL regex on `job`. */
export const SHOP_JOBS = "admin-api|admin-consumer|main-api|main-consumer";
/** The two APIs (they serve HTTP routes and run the outbox relays). */
export const API_JOBS = "admin-api|main-api";
/** The two consumers. */
export const CONSUMER_JOBS = "admin-consumer|main-consumer";
/** RabbitMQ's dead-letter queues, as a PromQL regex on `queue`. */
export const DEAD_LETTER_QUEUES = ".+\\\\.dead-letter";

/** A query and the legend of its series (`{{label}}` placeholders). */
export type Query = [expr: string, legend: string];

function queries(qs: Query[]): DataqueryBuilder[] {
  return qs.map(([expr, legend], i) =>
    new DataqueryBuilder()
      .expr(expr)
      .legendFormat(legend)
      .refId(String.fromCharCode(65 + i))
      .datasource(DATASOURCE),
  );
}

/** Placement of a panel on the 24-column grid: width and height. */
export interface Size {
  w: number;
  h: number;
}

export const HALF: Size = { w: 12, h: 8 };
export const THIRD: Size = { w: 8, h: 8 };
export const QUARTER: Size = { w: 6, h: 8 };
export const FULL: Size = { w: 24, h: 8 };
export const STAT: Size = { w: 4, h: 4 };

/** A graph over time. */
export function graph(
  title: string,
  description: string,
  unit: string,
  qs: Query[],
  size: Size = HALF,
): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .min(0)
    .span(size.w)
    .height(size.h)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    )
    .targets(queries(qs));
}

/** Thresholds: green below `warn`, orange from `warn`, red from `bad`. */
function thresholds(warn: number, bad: number): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
    { value: null, color: "green" },
    { value: warn, color: "orange" },
    { value: bad, color: "red" },
  ]);
}

/** One number per series (the latest), coloured by thresholds. */
export function single(
  title: string,
  description: string,
  unit: string,
  qs: Query[],
  warn: number,
  bad: number,
  size: Size = STAT,
): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(size.w)
    .height(size.h)
    .thresholds(thresholds(warn, bad))
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .targets(queries(qs));
}

/** Up (1) or down (0) per series: green UP, red DOWN. */
export function upDown(title: string, description: string, qs: Query[], size: Size = STAT): stat.PanelBuilder {
  return single(title, description, "none", qs, 0.5, 0.5, size)
    .thresholds(
      new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
        { value: null, color: "red" },
        { value: 1, color: "green" },
      ]),
    )
    .mappings([
      {
        type: dashboard.MappingType.ValueToText,
        options: {
          "0": { text: "DOWN", color: "red", index: 0 },
          "1": { text: "UP", color: "green", index: 1 },
        },
      },
    ]);
}

/** A row heading that groups the panels after it. */
export function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title);
}

/** A dashboard of the shop: tagged, refreshed every 30 s, the last hour by default. */
export function shopDashboard(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(["shop"])
    .editable()
    .refresh("30s")
    .time({ from: "now-1h", to: "now" })
    .timezone("browser")
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .link(
      new dashboard.DashboardLinkBuilder("Shop dashboards")
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(["shop"])
        .asDropdown(true)
        .includeVars(false)
        .keepTime(true),
    );
}
