/**
 * What the heatmap paints on each element, per mode — plain functions, so a unit test can hold the
 * colours and labels to the figures (tests/unit/heatmap-colours.test.ts).
 */
// The figures as the API computes them (one definition: infra/camunda/heatmap.ts).
import type { ElementHeat, TaskSla } from '../../../infra/camunda/heatmap.js';

export type Mode = 'frequency' | 'duration' | 'sla';

export interface Heatmap {
  definition: { processDefinitionKey: string; bpmnProcessId: string; name: string | null; version: number };
  asOf: string;
  instances: number;
  activeInstances: number;
  instanceDuration: { avgMs: number | null; p90Ms: number | null };
  elements: ElementHeat[];
  sla: TaskSla[];
}

/** A share as a whole percent, or a dash. */
export const percent = (share: number | null | undefined) =>
  share === null || share === undefined ? '—' : `${Math.round(share * 100)}%`;

/** A duration for people: days with one decimal from a day on, else hours or minutes. */
export function humanDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const hours = ms / 3_600_000;
  if (hours >= 24) return `${(hours / 24).toFixed(1)} 天`;
  if (hours >= 1) return `${hours.toFixed(1)} 小时`;
  const minutes = ms / 60_000;
  return minutes >= 1 ? `${Math.round(minutes)} 分钟` : '不足 1 分钟';
}

/** Light yellow (0) to deep red (1), translucent so the element's name stays readable. */
export function heatColour(t: number): string {
  const x = Math.max(0, Math.min(1, t));
  return `hsla(${Math.round(55 - 55 * x)}, 95%, ${Math.round(62 - 17 * x)}%, ${(0.25 + 0.45 * x).toFixed(2)})`;
}

export const SLA_RED = 'rgba(211, 47, 47, 0.55)';
export const SLA_GREEN = 'rgba(56, 142, 60, 0.35)';

export interface Paint {
  /** Background of the overlay; undefined: the element is not painted in this mode. */
  colour?: string;
  /** Short label on the element. */
  label: string;
  /** Over the SLA target (SLA mode only). */
  overTarget?: boolean;
}

/**
 * The paint of every element in a mode. Frequency: by the instances waiting there now (where children are
 * stuck), relative to the busiest element; duration: by the average, relative to the slowest; SLA: user
 * tasks red when the late share or the overdue share exceeds the target, else green.
 */
export function paint(heat: Heatmap, mode: Mode, slaTarget: number): Map<string, Paint> {
  const out = new Map<string, Paint>();
  if (mode === 'frequency') {
    const max = Math.max(1, ...heat.elements.map((e) => e.active));
    for (const e of heat.elements) {
      const incident = e.incidents ? ` · 事故 ${e.incidents}` : '';
      out.set(e.elementId, {
        colour: e.active ? heatColour(e.active / max) : undefined,
        label: `在办 ${e.active} · 到达 ${e.instances}${incident}`,
      });
    }
  } else if (mode === 'duration') {
    const timed = heat.elements.filter((e) => e.duration.avgMs !== null);
    const max = Math.max(1, ...timed.map((e) => e.duration.avgMs!));
    for (const e of timed) {
      out.set(e.elementId, {
        colour: e.duration.avgMs! > 0 ? heatColour(e.duration.avgMs! / max) : undefined,
        label: `平均 ${humanDuration(e.duration.avgMs)} · P90 ${humanDuration(e.duration.p90Ms)}`,
      });
    }
  } else {
    for (const s of heat.sla) {
      if (s.finished + s.open === 0) continue;
      const over = (s.lateShare ?? 0) > slaTarget || (s.overdueShare ?? 0) > slaTarget;
      out.set(s.elementId, {
        colour: over ? SLA_RED : SLA_GREEN,
        overTarget: over,
        label: `逾期办结 ${percent(s.lateShare)} · 在办超期 ${percent(s.overdueShare)}`,
      });
    }
  }
  return out;
}
