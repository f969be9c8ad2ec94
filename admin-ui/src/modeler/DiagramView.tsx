/**
 * A diagram as the API draws it (infra/diagrams/svg.ts: one <g data-element-id> per element), with
 * marks on elements — problems of the live validation, or a diff's added/removed/changed — and click
 * to select. Our own renderer and overlay: bpmn-js is under the bpmn.io licence (MIT terms plus a
 * watermark clause that forbids changing part of the code), not an open-source licence (README).
 */
import { Box } from '@mui/material';
import { useEffect, useRef } from 'react';
import type { Svg } from './model';

export type Mark = 'error' | 'warn' | 'added' | 'removed' | 'changed' | 'selected';

const COLORS: Record<Mark, string> = {
  error: '#d32f2f',
  warn: '#ed6c02',
  added: '#2e7d32',
  removed: '#d32f2f',
  changed: '#1565c0',
  selected: '#7b1fa2',
};

export function DiagramView({
  svgs,
  marks,
  onSelect,
  focus,
  testId,
}: {
  svgs: Svg[];
  marks: Map<string, Mark>;
  onSelect?: (elementId: string) => void;
  /** An element to scroll into view (the first changed one of a diff). */
  focus?: string;
  testId?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const root = ref.current;
    if (!root) return;
    for (const g of root.querySelectorAll<SVGGElement>('g[data-element-id]')) {
      const mark = marks.get(g.dataset.elementId ?? '');
      g.dataset.mark = mark ?? '';
      for (const shape of g.querySelectorAll<SVGElement>('rect, circle, path, polygon, polyline')) {
        if (mark) {
          shape.style.stroke = COLORS[mark];
          shape.style.strokeWidth = '3px';
        } else {
          shape.style.stroke = '';
          shape.style.strokeWidth = '';
        }
      }
      g.style.cursor = onSelect ? 'pointer' : '';
    }
  }, [svgs, marks, onSelect]);
  useEffect(() => {
    const root = ref.current;
    const target = focus ? root?.querySelector(`g[data-element-id="${CSS.escape(focus)}"]`) : null;
    if (!root || !target) return;
    const box = target.getBoundingClientRect();
    const frame = root.getBoundingClientRect();
    root.scrollLeft += box.left - frame.left - frame.width / 2 + box.width / 2;
    root.scrollTop += box.top - frame.top - frame.height / 2 + box.height / 2;
  }, [svgs, focus]);
  return (
    <Box
      ref={ref}
      data-testid={testId}
      sx={{
        overflow: 'auto',
        border: '1px solid #ddd',
        borderRadius: 1,
        bgcolor: '#fff',
        maxHeight: 560,
        '& svg': { display: 'block' },
      }}
      onClick={(e) => {
        const g = (e.target as Element).closest('g[data-element-id]');
        if (g && onSelect) onSelect(g.getAttribute('data-element-id') ?? '');
      }}
      // The SVG is drawn by our API from the deployed or validated XML; its text is escaped there.
      dangerouslySetInnerHTML={{ __html: svgs.map((s) => s.svg).join('') }}
    />
  );
}

/** The validation's worst mark per element. */
export function problemMarks(problems: { elementId: string; severity: 'error' | 'warn' }[]): Map<string, Mark> {
  const marks = new Map<string, Mark>();
  for (const p of problems) {
    if (!p.elementId) continue;
    if (p.severity === 'error' || !marks.has(p.elementId)) marks.set(p.elementId, p.severity);
  }
  return marks;
}
