import { z } from 'zod';
import { defineWorker } from '../lib/define-worker.js';
import { assignmentVariable } from '../lib/handover.js';
import { needsTransitionSupport } from '../../api/domain/vulnerable.js';

const COPIES = ['送出学校存', '接收学校存', '镇（街道）教育办存', '县教育局存'] as const;

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * Files the 交接表 with the county bureau: rendered once (HTML, four copies — one per signatory)
 * from the signed plan line and its roster, the bureau's copy recorded as signed. Lists the roster's
 * vulnerable pupils, who get a transition plan before term.
 */
export default defineWorker({
  type: 'file-handover-form',
  description: '交接表报县教育局备案 — [G] 二 交接表一式四份',
  input: z.object({ assignment: assignmentVariable }),
  output: z.object({ formFiled: z.literal(true), vulnerablePupils: z.array(z.object({ childId: z.uuid() })) }),
  async handler(input, ctx) {
    return ctx.prisma.$transaction(async (tx) => {
      const a = await tx.handoverAssignment.findUniqueOrThrow({
        where: { id: input.assignment.assignmentId },
        include: {
          fromClass: { include: { school: true } },
          toSchool: true,
          pupils: { include: { child: true }, orderBy: { id: 'asc' } },
        },
      });
      const vulnerablePupils = a.pupils
        .filter((p) => needsTransitionSupport(p.child.flags))
        .map((p) => ({ childId: p.childId }));
      if (a.formHtml) return { formFiled: true as const, vulnerablePupils };
      const filedAt = new Date();
      const rows = a.pupils
        .map(
          (p, i) =>
            `<tr><td>${i + 1}</td><td>${escape(p.child.name)}</td><td>${p.child.gender === 'MALE' ? '男' : '女'}</td>` +
            `<td>${escape(p.child.idNumber)}</td><td>${escape(p.child.studentNumber ?? '')}</td></tr>`,
        )
        .join('');
      const signed = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : '未签');
      const copy = (label: string) =>
        `<section class="copy"><h1>小学毕业生整班移交交接表</h1><p class="copy-label">（${label}）</p>` +
        `<p>送出学校：${escape(a.fromClass.school.name)} ${escape(a.fromClass.name ?? '')}&emsp;接收学校：${escape(a.toSchool.name)}&emsp;人数：${a.pupils.length}</p>` +
        `<table><thead><tr><th>序号</th><th>姓名</th><th>性别</th><th>身份证号</th><th>学籍号</th></tr></thead><tbody>${rows}</tbody></table>` +
        `<p>送出学校签字：${signed(a.sendingSignedAt)}&emsp;接收学校签字：${signed(a.receivingSignedAt)}&emsp;` +
        `镇（街道）教育办签字：${signed(a.townSignedAt)}&emsp;县教育局备案：${signed(filedAt)}</p></section>`;
      const html = `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>交接表</title>${COPIES.map(copy).join('')}</html>`;
      await tx.handoverAssignment.update({ where: { id: a.id }, data: { bureauSignedAt: filedAt, formHtml: html } });
      await tx.handoverBatch.updateMany({
        where: { id: a.batchId, status: { in: ['PLANNING', 'APPROVED'] } },
        data: { status: 'HANDED_OVER' },
      });
      return { formFiled: true as const, vulnerablePupils };
    });
  },
});
