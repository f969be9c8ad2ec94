/** What the console's heatmap paints on each element (admin-ui/src/supervision/heat.ts). */
import { describe, expect, it } from 'vitest';
import {
  type Heatmap,
  heatColour,
  humanDuration,
  paint,
  SLA_GREEN,
  SLA_RED,
} from '../../admin-ui/src/supervision/heat.js';

const DAY = 86_400_000;
const el = (elementId: string, active: number, avgMs: number | null, incidents = 0) => ({
  elementId,
  elementType: 'USER_TASK',
  instances: active + 1,
  active,
  completed: 1,
  terminated: 0,
  incidents,
  duration: { count: 1, avgMs, p90Ms: avgMs },
});
const heat: Heatmap = {
  definition: { processDefinitionKey: '1', bpmnProcessId: 'p', name: null, version: 1 },
  asOf: '2026-12-01T00:00:00Z',
  instances: 5,
  activeInstances: 4,
  instanceDuration: { avgMs: null, p90Ms: null },
  elements: [el('busy', 4, 2 * DAY, 1), el('quiet', 1, 4 * DAY), el('idle', 0, 0)],
  sla: [
    {
      elementId: 'busy',
      finished: 4,
      finishedLate: 1,
      lateShare: 0.25,
      open: 0,
      openOverdue: 0,
      overdueShare: null,
      withoutDueDate: 0,
    },
    {
      elementId: 'quiet',
      finished: 10,
      finishedLate: 1,
      lateShare: 0.1,
      open: 2,
      openOverdue: 0,
      overdueShare: 0,
      withoutDueDate: 0,
    },
    {
      elementId: 'idle',
      finished: 0,
      finishedLate: 0,
      lateShare: null,
      open: 0,
      openOverdue: 0,
      overdueShare: null,
      withoutDueDate: 3,
    },
  ],
};

describe('heatmap paint', () => {
  it('frequency: the element with most waiting is the hottest; none waiting is not painted', () => {
    const p = paint(heat, 'frequency', 0.1);
    expect(p.get('busy')).toEqual({ colour: heatColour(1), label: '在办 4 · 到达 5 · 事故 1' });
    expect(p.get('quiet')!.colour).toBe(heatColour(0.25));
    expect(p.get('idle')!.colour).toBeUndefined();
  });

  it('duration: relative to the slowest average, with average and P90 in days', () => {
    const p = paint(heat, 'duration', 0.1);
    expect(p.get('quiet')).toEqual({ colour: heatColour(1), label: '平均 4.0 天 · P90 4.0 天' });
    expect(p.get('busy')!.colour).toBe(heatColour(0.5));
    expect(p.get('idle')!.colour).toBeUndefined();
  });

  it('SLA: red only over the target (late or overdue share), tasks without due dates unpainted', () => {
    const p = paint(heat, 'sla', 0.1);
    expect(p.get('busy')).toEqual({ colour: SLA_RED, overTarget: true, label: '逾期办结 25% · 在办超期 —' });
    expect(p.get('quiet')).toMatchObject({ colour: SLA_GREEN, overTarget: false });
    expect(p.has('idle')).toBe(false);
    expect(paint(heat, 'sla', 0.3).get('busy')!.overTarget).toBe(false);
  });

  it('says durations in days, hours or minutes', () => {
    expect(humanDuration(9.6 * DAY)).toBe('9.6 天');
    expect(humanDuration(5 * 3_600_000)).toBe('5.0 小时');
    expect(humanDuration(120_000)).toBe('2 分钟');
    expect(humanDuration(0)).toBe('不足 1 分钟');
    expect(humanDuration(null)).toBe('—');
  });
});
