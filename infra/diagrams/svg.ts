/**
 * Renders a diagram's DI as static SVG, without a browser: one picture per BPMNDiagram (a process,
 * and each collapsed sub-process drawn on a plane of its own). Coverage is what our diagrams use, in
 * the spirit of bpmn-js's look; anything unknown is drawn as a plain box or circle, never dropped.
 *
 * The output is a pure function of the XML (document order, fixed number format), so the committed
 * pictures in docs/diagrams can be compared with a fresh rendering by a test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../config.js';
import { isA, parseDiagram, type ModdleElement } from './moddle.js';

export const PROCESSES_DIR = path.join(REPO_ROOT, 'processes');
export const SVG_DIR = path.join(REPO_ROOT, 'docs', 'diagrams');

const FONT_FAMILY = 'Noto Sans CJK SC, Microsoft YaHei, sans-serif';
const FONT_SIZE = 12;
const LINE_HEIGHT = 14;
/** External labels (events, gateways, flows) without DI bounds wrap at bpmn-js's width. */
const LABEL_WIDTH = 90;
const MARGIN = 20;
const STROKE = '#22242a';

interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Point {
  x: number;
  y: number;
}

export interface DiagramSvg {
  /** `<processId>` for a process's plane, `<processId>.<subProcessId>` for a collapsed sub-process's. */
  name: string;
  svg: string;
}

// ---------------------------------------------------------------------------------------------------
// Text

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** Numbers as short as they go, the same on every machine. */
function n(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

function isWide(char: string): boolean {
  return /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(char);
}

/** A guess at the rendered width: CJK glyphs are square, Latin ones about half as wide. */
function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += isWide(char) ? FONT_SIZE : FONT_SIZE * 0.55;
  return width;
}

/** Characters that must not begin a line (they stay with the one before). */
const NO_LINE_START = /^[，。、；：？！）》」』】〉,.;:?!)\]}%]$/u;

/** Greedy line breaking: CJK may break after any character, Latin text only between words. */
function breakLines(paragraph: string, maxWidth: number): string[] {
  const lines: string[] = [];
  const tokens =
    paragraph.match(/\s+|[^\s\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+|./gu) ??
    [];
  let line = '';
  for (const token of tokens) {
    if (/^\s+$/.test(token)) {
      if (line) line += ' ';
      continue;
    }
    if (!line || textWidth(line + token) <= maxWidth || NO_LINE_START.test(token)) {
      line += token;
      continue;
    }
    lines.push(line.trimEnd());
    line = token;
    // A Latin word wider than a whole line is cut where it overflows.
    while (textWidth(line) > maxWidth && line.length > 1) {
      let cut = 1;
      while (cut < line.length && textWidth(line.slice(0, cut + 1)) <= maxWidth) cut++;
      lines.push(line.slice(0, cut));
      line = line.slice(cut);
    }
  }
  lines.push(line.trimEnd());
  return lines;
}

/**
 * Splits text into lines no wider than maxWidth, as evenly as the line count allows (学校报告/期限届满
 * rather than 学校报告期限届/满). Explicit line breaks in the name are kept.
 */
export function wrapText(text: string, maxWidth: number): string[] {
  return text
    .trim()
    .split(/\r?\n/)
    .flatMap((paragraph) => {
      const greedy = breakLines(paragraph.trim(), maxWidth);
      for (let width = Math.ceil(textWidth(paragraph) / greedy.length); width < maxWidth; width++) {
        const balanced = breakLines(paragraph.trim(), width);
        if (balanced.length <= greedy.length) return balanced;
      }
      return greedy;
    })
    .filter((line, i, all) => line || all.length === 1);
}

interface TextBlock {
  svg: string;
  bounds: Bounds;
}

/** Lines centred on cx, the first line's box starting at top. */
function textLines(lines: string[], cx: number, top: number, anchor: 'middle' | 'start' = 'middle'): TextBlock {
  const width = Math.max(0, ...lines.map(textWidth));
  const tspans = lines
    .map((line, i) => `<tspan x="${n(cx)}" y="${n(top + (i + 1) * LINE_HEIGHT - 3)}">${escapeXml(line)}</tspan>`)
    .join('');
  const x = anchor === 'middle' ? cx - width / 2 : cx;
  return {
    svg: lines.length ? `<text text-anchor="${anchor}" stroke="none">${tspans}</text>` : '',
    bounds: { x, y: top, width, height: lines.length * LINE_HEIGHT },
  };
}

// ---------------------------------------------------------------------------------------------------
// Model access

function list(element: ModdleElement | undefined, name: string): ModdleElement[] {
  return (element?.get(name) as ModdleElement[] | undefined) ?? [];
}

function bounds(di: ModdleElement | undefined): Bounds | undefined {
  const b = di?.get('bounds') as ModdleElement | undefined;
  if (!b) return undefined;
  const [x, y, width, height] = ['x', 'y', 'width', 'height'].map((k) => Number(b.get(k)) || 0);
  return { x: x!, y: y!, width: width!, height: height! };
}

function labelBounds(di: ModdleElement): Bounds | undefined {
  return bounds(di.get('label') as ModdleElement | undefined);
}

function name(element: ModdleElement): string {
  return ((element.get('name') as string | undefined) ?? '').trim();
}

function eventKind(event: ModdleElement): string | undefined {
  const definitions = list(event, 'eventDefinitions');
  if (definitions.length > 1) return 'multiple';
  const type = definitions[0]?.$type;
  return type ? type.replace(/^bpmn:(\w+)EventDefinition$/, '$1').toLowerCase() : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Glyphs: small paths in a box whose top-left corner is (x, y)

function pathEl(d: string, attrs = ''): string {
  return `<path d="${d}"${attrs ? ` ${attrs}` : ''}/>`;
}

/** Head and shoulders (user task). */
function personGlyph(x: number, y: number): string {
  return (
    pathEl(`M${n(x + 7)},${n(y + 1)}a3.2,3.2 0 1,0 0.01,0z`, 'fill="none" stroke-width="1.2"') +
    pathEl(`M${n(x + 1)},${n(y + 15)}v-3q0,-4 6,-4q6,0 6,4v3z`, 'fill="none" stroke-width="1.2"')
  );
}

/** A gear wheel (service task): eight teeth, a hub. */
const GEAR_POINTS = Array.from({ length: 32 }, (_, i) => {
  const angle = ((i - 0.5) * Math.PI) / 16;
  const radius = i % 4 < 2 ? 7 : 5;
  return [Math.cos(angle) * radius, Math.sin(angle) * radius] as const;
});

function gearGlyph(x: number, y: number): string {
  const cx = x + 8;
  const cy = y + 8;
  const outline = GEAR_POINTS.map(([dx, dy], i) => `${i ? 'L' : 'M'}${n(cx + dx)},${n(cy + dy)}`).join('') + 'Z';
  return pathEl(
    `${outline}M${n(cx - 2.2)},${n(cy)}a2.2,2.2 0 1,0 4.4,0a2.2,2.2 0 1,0 -4.4,0z`,
    'fill="none" stroke-width="1.2"',
  );
}

/** A table with a dark header row (business rule task). */
function tableGlyph(x: number, y: number): string {
  return (
    pathEl(`M${n(x)},${n(y + 2)}h17v4h-17z`, `fill="${STROKE}" stroke="none"`) +
    pathEl(`M${n(x)},${n(y + 2)}h17v12h-17zM${n(x)},${n(y + 10)}h17M${n(x + 5)},${n(y + 6)}v8`, 'fill="none"')
  );
}

/** An envelope; filled for a sending element. */
function envelopeGlyph(x: number, y: number, width: number, filled: boolean): string {
  const h = width * 0.7;
  const box = `M${n(x)},${n(y)}h${n(width)}v${n(h)}h${n(-width)}z`;
  const flap = `M${n(x)},${n(y)}l${n(width / 2)},${n(h * 0.55)}l${n(width / 2)},${n(-h * 0.55)}`;
  return filled
    ? pathEl(box, `fill="${STROKE}"`) + pathEl(flap, 'fill="none" stroke="#fff"')
    : pathEl(box, 'fill="#fff"') + pathEl(flap, 'fill="none"');
}

/** A scroll (script task). */
function scriptGlyph(x: number, y: number): string {
  return pathEl(
    `M${n(x + 4)},${n(y + 1)}h10q-3,3 0,7q3,4 0,7h-10q3,-3 0,-7q-3,-4 0,-7zM${n(x + 6)},${n(y + 5)}h5M${n(x + 6)},${n(y + 8)}h6M${n(x + 6)},${n(y + 11)}h5`,
    'fill="none" stroke-width="1"',
  );
}

/** Markers drawn at the bottom centre of an activity, 14 pixels each. */
function bottomMarkers(element: ModdleElement, collapsed: boolean): ((x: number, y: number) => string)[] {
  const markers: ((x: number, y: number) => string)[] = [];
  const loop = element.get('loopCharacteristics') as ModdleElement | undefined;
  if (loop && isA(loop, 'bpmn:MultiInstanceLoopCharacteristics')) {
    markers.push(
      loop.get('isSequential') === true
        ? (x, y) => pathEl(`M${n(x)},${n(y + 2)}h14M${n(x)},${n(y + 7)}h14M${n(x)},${n(y + 12)}h14`, 'stroke-width="2"')
        : (x, y) =>
            pathEl(`M${n(x + 2)},${n(y)}v14M${n(x + 7)},${n(y)}v14M${n(x + 12)},${n(y)}v14`, 'stroke-width="2"'),
    );
  } else if (loop) {
    markers.push((x, y) =>
      pathEl(`M${n(x + 3)},${n(y + 12)}a6,6 0 1,1 8,0m0,0v-4m0,4h4`, 'fill="none" stroke-width="1.5"'),
    );
  }
  if (collapsed) {
    markers.push((x, y) =>
      pathEl(`M${n(x)},${n(y)}h14v14h-14zM${n(x + 3)},${n(y + 7)}h8M${n(x + 7)},${n(y + 3)}v8`, 'fill="none"'),
    );
  }
  return markers;
}

// ---------------------------------------------------------------------------------------------------
// Shapes

interface Rendered {
  svg: string;
  /** Everything drawn, for the view box. */
  extent: Bounds[];
}

function group(element: ModdleElement, inner: string): string {
  return `<g data-element-id="${escapeXml(element.id ?? '')}">${inner}</g>`;
}

function activity(element: ModdleElement, di: ModdleElement, b: Bounds): Rendered {
  const isSubProcess = isA(element, 'bpmn:SubProcess');
  const expanded = isSubProcess && di.get('isExpanded') === true;
  const strokeWidth = isA(element, 'bpmn:CallActivity') ? 4 : 2;
  const dash = isSubProcess && element.get('triggeredByEvent') === true ? ' stroke-dasharray="2,3"' : '';
  let svg = `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.width)}" height="${n(b.height)}" rx="10" fill="#fff" stroke-width="${strokeWidth}"${dash}/>`;

  if (isA(element, 'bpmn:UserTask')) svg += personGlyph(b.x + 6, b.y + 5);
  else if (isA(element, 'bpmn:ServiceTask')) svg += gearGlyph(b.x + 5, b.y + 5);
  else if (isA(element, 'bpmn:BusinessRuleTask')) svg += tableGlyph(b.x + 7, b.y + 4);
  else if (isA(element, 'bpmn:SendTask')) svg += envelopeGlyph(b.x + 7, b.y + 7, 15, true);
  else if (isA(element, 'bpmn:ReceiveTask')) svg += envelopeGlyph(b.x + 7, b.y + 7, 15, false);
  else if (isA(element, 'bpmn:ScriptTask')) svg += scriptGlyph(b.x + 5, b.y + 5);

  const markers = bottomMarkers(element, isSubProcess && !expanded);
  const markersLeft = b.x + b.width / 2 - (markers.length * 14 + (markers.length - 1) * 4) / 2;
  markers.forEach((marker, i) => (svg += marker(markersLeft + i * 18, b.y + b.height - 18)));

  const label = name(element);
  if (expanded) {
    svg += textLines(wrapText(label, b.width - 20), b.x + 10, b.y + 5, 'start').svg;
  } else if (label) {
    const lines = wrapText(label, b.width - 10);
    const reserved = markers.length ? 16 : 0;
    const top = b.y + (b.height - reserved - lines.length * LINE_HEIGHT) / 2;
    svg += textLines(lines, b.x + b.width / 2, top).svg;
  }
  return { svg: group(element, svg), extent: [b] };
}

function eventIcon(kind: string | undefined, cx: number, cy: number, filled: boolean): string {
  const fill = filled ? STROKE : 'none';
  switch (kind) {
    case 'timer': {
      const ticks = Array.from({ length: 12 }, (_, i) => {
        const a = (i * Math.PI) / 6;
        return `M${n(cx + Math.cos(a) * 7.5)},${n(cy + Math.sin(a) * 7.5)}L${n(cx + Math.cos(a) * 9.5)},${n(cy + Math.sin(a) * 9.5)}`;
      }).join('');
      return (
        `<circle cx="${n(cx)}" cy="${n(cy)}" r="11" fill="#fff" stroke-width="1.5"/>` +
        pathEl(
          `${ticks}M${n(cx)},${n(cy)}L${n(cx + 5)},${n(cy - 2)}M${n(cx)},${n(cy)}L${n(cx + 1)},${n(cy - 7)}`,
          'fill="none" stroke-width="1.2"',
        )
      );
    }
    case 'message':
      return envelopeGlyph(cx - 8.5, cy - 6, 17, filled);
    case 'error':
      return pathEl(
        `M${n(cx - 7)},${n(cy + 8)}L${n(cx - 3)},${n(cy - 6)}L${n(cx + 1)},${n(cy + 1)}L${n(cx + 7)},${n(cy - 8)}L${n(cx + 3)},${n(cy + 6)}L${n(cx - 1)},${n(cy - 1)}Z`,
        `fill="${fill}" stroke-linejoin="round"`,
      );
    case 'signal':
      return pathEl(`M${n(cx)},${n(cy - 8)}L${n(cx + 8)},${n(cy + 6)}L${n(cx - 8)},${n(cy + 6)}Z`, `fill="${fill}"`);
    case 'escalation':
      return pathEl(
        `M${n(cx)},${n(cy - 8)}L${n(cx + 6)},${n(cy + 7)}L${n(cx)},${n(cy + 2)}L${n(cx - 6)},${n(cy + 7)}Z`,
        `fill="${fill}"`,
      );
    case 'terminate':
      return `<circle cx="${n(cx)}" cy="${n(cy)}" r="10" fill="${STROKE}"/>`;
    case 'conditional':
      return pathEl(
        `M${n(cx - 6)},${n(cy - 8)}h12v16h-12zM${n(cx - 4)},${n(cy - 4)}h8M${n(cx - 4)},${n(cy)}h8M${n(cx - 4)},${n(cy + 4)}h8`,
        'fill="#fff"',
      );
    case 'link':
      return pathEl(`M${n(cx - 7)},${n(cy - 3)}h8v-4l7,7l-7,7v-4h-8z`, `fill="${fill}"`);
    case 'compensate':
      return pathEl(`M${n(cx - 8)},${n(cy)}l7,-6v12zM${n(cx - 1)},${n(cy)}l7,-6v12z`, `fill="${fill}"`);
    case 'cancel':
      return pathEl(`M${n(cx - 6)},${n(cy - 6)}l12,12M${n(cx + 6)},${n(cy - 6)}l-12,12`, 'stroke-width="3"');
    case 'multiple':
      return pathEl(`M${n(cx)},${n(cy - 8)}l7.6,5.5l-2.9,9h-9.4l-2.9,-9z`, `fill="${fill}"`);
    default:
      return '';
  }
}

function event(element: ModdleElement, b: Bounds): Rendered {
  const cx = b.x + b.width / 2;
  const cy = b.y + b.height / 2;
  const r = b.width / 2;
  const interrupting = isA(element, 'bpmn:BoundaryEvent')
    ? element.get('cancelActivity') !== false
    : element.get('isInterrupting') !== false;
  const dash = interrupting ? '' : ' stroke-dasharray="5,3"';
  const circle = (radius: number, width: number) =>
    `<circle cx="${n(cx)}" cy="${n(cy)}" r="${n(radius)}" fill="#fff" stroke-width="${width}"${dash}/>`;
  let svg: string;
  if (isA(element, 'bpmn:StartEvent')) svg = circle(r, 1.5);
  else if (isA(element, 'bpmn:EndEvent')) svg = circle(r, 4);
  else svg = circle(r, 1.5) + circle(r - 3, 1.5).replace('fill="#fff"', 'fill="none"');
  const throwing = isA(element, 'bpmn:EndEvent') || isA(element, 'bpmn:IntermediateThrowEvent');
  svg += eventIcon(eventKind(element), cx, cy, throwing);
  return { svg: group(element, svg), extent: [b] };
}

function gateway(element: ModdleElement, b: Bounds): Rendered {
  const cx = b.x + b.width / 2;
  const cy = b.y + b.height / 2;
  let svg = pathEl(
    `M${n(cx)},${n(b.y)}L${n(b.x + b.width)},${n(cy)}L${n(cx)},${n(b.y + b.height)}L${n(b.x)},${n(cy)}Z`,
    'fill="#fff" stroke-width="2"',
  );
  if (isA(element, 'bpmn:ExclusiveGateway')) {
    svg += pathEl(
      `M${n(cx - 7)},${n(cy - 7)}L${n(cx + 7)},${n(cy + 7)}M${n(cx + 7)},${n(cy - 7)}L${n(cx - 7)},${n(cy + 7)}`,
      'stroke-width="3.5"',
    );
  } else if (isA(element, 'bpmn:ParallelGateway')) {
    svg += pathEl(`M${n(cx)},${n(cy - 10)}V${n(cy + 10)}M${n(cx - 10)},${n(cy)}H${n(cx + 10)}`, 'stroke-width="3.5"');
  } else if (isA(element, 'bpmn:InclusiveGateway')) {
    svg += `<circle cx="${n(cx)}" cy="${n(cy)}" r="9" fill="none" stroke-width="2.5"/>`;
  } else if (isA(element, 'bpmn:EventBasedGateway')) {
    svg +=
      `<circle cx="${n(cx)}" cy="${n(cy)}" r="11" fill="none" stroke-width="1"/>` +
      `<circle cx="${n(cx)}" cy="${n(cy)}" r="9" fill="none" stroke-width="1"/>` +
      pathEl(`M${n(cx)},${n(cy - 6)}l5.7,4.1l-2.2,6.7h-7l-2.2,-6.7z`, 'fill="none" stroke-width="1.3"');
  } else if (isA(element, 'bpmn:ComplexGateway')) {
    svg += pathEl(
      `M${n(cx)},${n(cy - 10)}V${n(cy + 10)}M${n(cx - 10)},${n(cy)}H${n(cx + 10)}M${n(cx - 7)},${n(cy - 7)}L${n(cx + 7)},${n(cy + 7)}M${n(cx + 7)},${n(cy - 7)}L${n(cx - 7)},${n(cy + 7)}`,
      'stroke-width="3"',
    );
  }
  return { svg: group(element, svg), extent: [b] };
}

/** A pool or lane: its name runs upwards in the band at its left edge. */
function participantOrLane(element: ModdleElement, b: Bounds): Rendered {
  const band = 30;
  let svg = `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.width)}" height="${n(b.height)}" fill="none" stroke-width="1.5"/>`;
  if (isA(element, 'bpmn:Participant'))
    svg += pathEl(`M${n(b.x + band)},${n(b.y)}V${n(b.y + b.height)}`, 'stroke-width="1.5"');
  const lines = wrapText(name(element), b.height - 10);
  if (lines.length) {
    const cx = b.x + band / 2;
    const cy = b.y + b.height / 2;
    const block = textLines(lines, cx, cy - (lines.length * LINE_HEIGHT) / 2);
    svg += `<g transform="rotate(-90 ${n(cx)} ${n(cy)})">${block.svg}</g>`;
  }
  return { svg: group(element, svg), extent: [b] };
}

function textAnnotation(element: ModdleElement, b: Bounds): Rendered {
  const text = ((element.get('text') as string | undefined) ?? '').trim();
  const block = textLines(wrapText(text, b.width - 10), b.x + 5, b.y + 5, 'start');
  const svg =
    pathEl(`M${n(b.x + 10)},${n(b.y)}H${n(b.x)}V${n(b.y + b.height)}H${n(b.x + 10)}`, 'fill="none"') + block.svg;
  return { svg: group(element, svg), extent: [b, block.bounds] };
}

function dataElement(element: ModdleElement, b: Bounds): Rendered {
  const svg = isA(element, 'bpmn:DataStoreReference')
    ? pathEl(
        `M${n(b.x)},${n(b.y + 8)}a${n(b.width / 2)},8 0 0,1 ${n(b.width)},0v${n(b.height - 16)}a${n(b.width / 2)},8 0 0,1 ${n(-b.width)},0zM${n(b.x)},${n(b.y + 8)}a${n(b.width / 2)},8 0 0,0 ${n(b.width)},0`,
        'fill="#fff"',
      )
    : pathEl(
        `M${n(b.x)},${n(b.y)}h${n(b.width - 10)}l10,10v${n(b.height - 10)}h${n(-b.width)}zM${n(b.x + b.width - 10)},${n(b.y)}v10h10`,
        'fill="#fff"',
      );
  return { svg: group(element, svg), extent: [b] };
}

function genericGroup(element: ModdleElement, b: Bounds): Rendered {
  const svg = pathEl(
    `M${n(b.x + 10)},${n(b.y)}H${n(b.x + b.width - 10)}Q${n(b.x + b.width)},${n(b.y)} ${n(b.x + b.width)},${n(b.y + 10)}V${n(b.y + b.height - 10)}Q${n(b.x + b.width)},${n(b.y + b.height)} ${n(b.x + b.width - 10)},${n(b.y + b.height)}H${n(b.x + 10)}Q${n(b.x)},${n(b.y + b.height)} ${n(b.x)},${n(b.y + b.height - 10)}V${n(b.y + 10)}Q${n(b.x)},${n(b.y)} ${n(b.x + 10)},${n(b.y)}Z`,
    'fill="none" stroke-dasharray="8,3,1,3"',
  );
  return { svg: group(element, svg), extent: [b] };
}

/** Events, gateways and data carry their name outside the shape: at the DI label, else below. */
function externalLabel(element: ModdleElement, di: ModdleElement, b: Bounds): TextBlock | undefined {
  const text = isA(element, 'bpmn:Group')
    ? (((element.get('categoryValueRef') as ModdleElement | undefined)?.get('value') as string | undefined) ?? '')
    : name(element);
  if (!text) return undefined;
  const given = labelBounds(di);
  if (given) {
    const lines = wrapText(text, Math.max(given.width, FONT_SIZE) + 2);
    return textLines(lines, given.x + given.width / 2, given.y);
  }
  return textLines(wrapText(text, LABEL_WIDTH), b.x + b.width / 2, b.y + b.height + 5);
}

// ---------------------------------------------------------------------------------------------------
// Connections

function waypoints(di: ModdleElement): Point[] {
  return list(di, 'waypoint').map((p) => ({ x: Number(p.get('x')) || 0, y: Number(p.get('y')) || 0 }));
}

function midpoint(points: Point[]): Point {
  const segments = points.slice(1).map((p, i) => Math.hypot(p.x - points[i]!.x, p.y - points[i]!.y));
  let remaining = segments.reduce((a, b) => a + b, 0) / 2;
  for (let i = 0; i < segments.length; i++) {
    const length = segments[i]!;
    if (remaining <= length && length > 0) {
      const t = remaining / length;
      return {
        x: points[i]!.x + (points[i + 1]!.x - points[i]!.x) * t,
        y: points[i]!.y + (points[i + 1]!.y - points[i]!.y) * t,
      };
    }
    remaining -= length;
  }
  return points[0] ?? { x: 0, y: 0 };
}

function connection(element: ModdleElement, di: ModdleElement): { line: Rendered; label?: TextBlock } {
  const points = waypoints(di);
  const attrs: string[] = ['fill="none"', 'stroke-linejoin="round"'];
  if (isA(element, 'bpmn:SequenceFlow')) {
    attrs.push('stroke-width="1.5"', 'marker-end="url(#kc-arrow)"');
    const source = element.get('sourceRef') as ModdleElement | undefined;
    if (source && element.get('conditionExpression') && isA(source, 'bpmn:Activity')) {
      attrs.push('marker-start="url(#kc-condition)"');
    }
  } else if (isA(element, 'bpmn:MessageFlow')) {
    attrs.push(
      'stroke-width="1.5"',
      'stroke-dasharray="10,6"',
      'marker-start="url(#kc-message-start)"',
      'marker-end="url(#kc-open-arrow)"',
    );
  } else if (isA(element, 'bpmn:DataInputAssociation') || isA(element, 'bpmn:DataOutputAssociation')) {
    attrs.push('stroke-dasharray="1,4"', 'stroke-linecap="round"', 'marker-end="url(#kc-open-arrow)"');
  } else {
    const direction = element.get('associationDirection') as string | undefined;
    attrs.push('stroke-dasharray="1,4"', 'stroke-linecap="round"');
    if (direction === 'One' || direction === 'Both') attrs.push('marker-end="url(#kc-open-arrow)"');
    if (direction === 'Both') attrs.push('marker-start="url(#kc-open-arrow-start)"');
  }
  let svg = `<polyline points="${points.map((p) => `${n(p.x)},${n(p.y)}`).join(' ')}" ${attrs.join(' ')}/>`;

  // The default flow's slash, across the line near its source.
  const source = element.get('sourceRef') as ModdleElement | undefined;
  if (source && source.get('default') === element && points.length > 1) {
    const [a, b] = [points[0]!, points[1]!];
    const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const [ux, uy] = [(b.x - a.x) / length, (b.y - a.y) / length];
    const c = { x: a.x + ux * 10, y: a.y + uy * 10 };
    svg += pathEl(
      `M${n(c.x - ux * 4 - uy * 5)},${n(c.y - uy * 4 + ux * 5)}L${n(c.x + ux * 4 + uy * 5)},${n(c.y + uy * 4 - ux * 5)}`,
      'stroke-width="1.5"',
    );
  }

  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const extent = points.length
    ? [
        {
          x: Math.min(...xs),
          y: Math.min(...ys),
          width: Math.max(...xs) - Math.min(...xs),
          height: Math.max(...ys) - Math.min(...ys),
        },
      ]
    : [];
  const text = name(element);
  let label: TextBlock | undefined;
  if (text) {
    const given = labelBounds(di);
    if (given) {
      label = textLines(wrapText(text, Math.max(given.width, FONT_SIZE) + 2), given.x + given.width / 2, given.y);
    } else if (points.length) {
      const mid = midpoint(points);
      const lines = wrapText(text, LABEL_WIDTH);
      label = textLines(lines, mid.x, mid.y - lines.length * LINE_HEIGHT - 2);
    }
  }
  return { line: { svg: group(element, svg), extent }, ...(label ? { label } : {}) };
}

// ---------------------------------------------------------------------------------------------------
// Planes

const DEFS =
  '<defs>' +
  `<marker id="kc-arrow" viewBox="0 0 20 20" refX="11" refY="10" markerWidth="10" markerHeight="10" orient="auto"><path d="M1,5L11,10L1,15Z" fill="${STROKE}" stroke="none"/></marker>` +
  `<marker id="kc-open-arrow" viewBox="0 0 20 20" refX="12" refY="10" markerWidth="10" markerHeight="10" orient="auto"><path d="M1,5L12,10L1,15" fill="none" stroke="${STROKE}" stroke-width="1.5"/></marker>` +
  `<marker id="kc-open-arrow-start" viewBox="0 0 20 20" refX="8" refY="10" markerWidth="10" markerHeight="10" orient="auto"><path d="M19,5L8,10L19,15" fill="none" stroke="${STROKE}" stroke-width="1.5"/></marker>` +
  `<marker id="kc-message-start" viewBox="0 0 20 20" refX="6" refY="6" markerWidth="20" markerHeight="20" orient="auto"><circle cx="6" cy="6" r="3.5" fill="#fff" stroke="${STROKE}" stroke-width="1"/></marker>` +
  `<marker id="kc-condition" viewBox="0 0 20 20" refX="-1" refY="10" markerWidth="10" markerHeight="10" orient="auto"><path d="M0,10L8,6L16,10L8,14Z" fill="#fff" stroke="${STROKE}" stroke-width="1"/></marker>` +
  '</defs>';

function renderPlane(plane: ModdleElement, title: string): string {
  const pools: string[] = [];
  const containers: { depth: number; svg: string }[] = [];
  const edges: string[] = [];
  const shapes: string[] = [];
  const boundaries: string[] = [];
  const labels: string[] = [];
  const extent: Bounds[] = [];
  const add = (into: string[], rendered: Rendered) => {
    into.push(rendered.svg);
    extent.push(...rendered.extent);
  };
  const addLabel = (label: TextBlock | undefined) => {
    if (!label) return;
    labels.push(label.svg);
    extent.push(label.bounds);
  };

  for (const di of list(plane, 'planeElement')) {
    const element = di.get('bpmnElement') as ModdleElement | undefined;
    if (!element) continue;
    if (isA(di, 'bpmndi:BPMNEdge')) {
      const { line, label } = connection(element, di);
      add(edges, line);
      addLabel(label);
      continue;
    }
    const b = bounds(di);
    if (!b) continue;
    if (isA(element, 'bpmn:Participant') || isA(element, 'bpmn:Lane')) {
      add(pools, participantOrLane(element, b));
    } else if (isA(element, 'bpmn:SubProcess') && di.get('isExpanded') === true) {
      let depth = 0;
      for (let p = element.$parent; p && isA(p, 'bpmn:SubProcess'); p = p.$parent) depth++;
      containers.push({ depth, svg: activity(element, di, b).svg });
      extent.push(b);
    } else if (isA(element, 'bpmn:Activity')) {
      add(shapes, activity(element, di, b));
    } else if (isA(element, 'bpmn:BoundaryEvent')) {
      add(boundaries, event(element, b));
      addLabel(externalLabel(element, di, b));
    } else if (isA(element, 'bpmn:Event')) {
      add(shapes, event(element, b));
      addLabel(externalLabel(element, di, b));
    } else if (isA(element, 'bpmn:Gateway')) {
      add(shapes, gateway(element, b));
      addLabel(externalLabel(element, di, b));
    } else if (isA(element, 'bpmn:TextAnnotation')) {
      add(shapes, textAnnotation(element, b));
    } else if (isA(element, 'bpmn:DataObjectReference') || isA(element, 'bpmn:DataStoreReference')) {
      add(shapes, dataElement(element, b));
      addLabel(externalLabel(element, di, b));
    } else if (isA(element, 'bpmn:Group')) {
      add(shapes, genericGroup(element, b));
      addLabel(externalLabel(element, di, b));
    } else {
      add(shapes, {
        svg: group(
          element,
          `<rect x="${n(b.x)}" y="${n(b.y)}" width="${n(b.width)}" height="${n(b.height)}" fill="none" stroke-dasharray="4,4"/>`,
        ),
        extent: [b],
      });
    }
  }

  const box = extent.length
    ? {
        x: Math.min(...extent.map((b) => b.x)) - MARGIN,
        y: Math.min(...extent.map((b) => b.y)) - MARGIN,
        right: Math.max(...extent.map((b) => b.x + b.width)) + MARGIN,
        bottom: Math.max(...extent.map((b) => b.y + b.height)) + MARGIN,
      }
    : { x: 0, y: 0, right: 100, bottom: 100 };
  const [x, y] = [Math.floor(box.x), Math.floor(box.y)];
  const [width, height] = [Math.ceil(box.right) - x, Math.ceil(box.bottom) - y];
  containers.sort((a, b) => a.depth - b.depth);
  const body = [...pools, ...containers.map((c) => c.svg), ...edges, ...shapes, ...boundaries, ...labels];
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${x} ${y} ${width} ${height}" width="${width}" height="${height}" ` +
    `font-family="${FONT_FAMILY}" font-size="${FONT_SIZE}" fill="${STROKE}" stroke="${STROKE}">\n` +
    `<title>${escapeXml(title)}</title>\n${DEFS}\n` +
    body.map((line) => `${line}\n`).join('') +
    '</svg>\n'
  );
}

/** The process a (nested) element belongs to. */
function processOf(element: ModdleElement): ModdleElement | undefined {
  let e: ModdleElement | undefined = element;
  while (e && !isA(e, 'bpmn:Process')) e = e.$parent;
  return e;
}

/** One SVG per BPMNDiagram of the document that has something drawn on it. */
export async function renderSvgs(xml: string): Promise<DiagramSvg[]> {
  const { rootElement } = await parseDiagram(xml);
  const result: DiagramSvg[] = [];
  for (const diagram of list(rootElement, 'diagrams')) {
    const plane = diagram.get('plane') as ModdleElement | undefined;
    const owner = plane?.get('bpmnElement') as ModdleElement | undefined;
    if (!plane || !owner || list(plane, 'planeElement').length === 0) continue;
    let svgName: string;
    let title: string;
    if (isA(owner, 'bpmn:Collaboration')) {
      const process = list(owner, 'participants')
        .map((p) => p.get('processRef') as ModdleElement | undefined)
        .find(Boolean);
      svgName = process?.id ?? owner.id!;
      title = name(process ?? owner) || svgName;
    } else if (isA(owner, 'bpmn:Process')) {
      svgName = owner.id!;
      title = name(owner) || svgName;
    } else {
      const process = processOf(owner);
      svgName = `${process?.id ?? 'unknown'}.${owner.id}`;
      title = [process && name(process), name(owner)].filter(Boolean).join(' › ') || svgName;
    }
    result.push({ name: svgName, svg: renderPlane(plane, title) });
  }
  return result;
}

/**
 * Every SVG of every processes/*.bpmn, keyed by file name (`<name>.svg`), and the diagrams that have
 * no DI yet (nothing to draw: run npm run diagrams:layout first).
 */
export async function renderProcessesDir(
  dir = PROCESSES_DIR,
): Promise<{ files: Map<string, string>; undrawn: string[] }> {
  const files = new Map<string, string>();
  const undrawn: string[] = [];
  const sources = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.bpmn'))
    .sort();
  for (const source of sources) {
    const svgs = await renderSvgs(fs.readFileSync(path.join(dir, source), 'utf8'));
    if (svgs.length === 0) undrawn.push(source);
    for (const { name: svgName, svg } of svgs) {
      const file = `${svgName}.svg`;
      if (files.has(file)) throw new Error(`${source}: a second diagram renders to ${file}`);
      files.set(file, svg);
    }
  }
  return { files, undrawn };
}
