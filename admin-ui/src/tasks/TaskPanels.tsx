/**
 * What a task page shows beside its form for some task types: the records of the case's earlier steps
 * (the school sees the teacher's home visit), and the bureau's dispatch of the suspect list — how many
 * suspects and how many in each town — before it sends them out.
 */
import { Card, CardContent, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-admin';
import { apiFetch } from '../api';
import { CaseRecords } from '../cases/CaseRecords';
import type { TaskContext } from './useTaskContext';

/** What the attachments of a task are (the card's label). */
export const ATTACHMENT_LABELS: Record<string, string> = {
  visitFamily: '家访照片、家访记录',
  reportHomeVisits: '家访照片、家访记录',
  confirmDropoutBySchool: '书面报告、一人一案材料',
  orderCorrectionByTown: '批评教育记录、送达回证',
  issueJudicialNotice: '司法文书、送达回证',
  decideLegalReferral: '移送材料',
  verifyChild: '核实证明（村居证明、在读证明、电话记录）',
  fileDeferral: '书面申请、医院证明',
  fixHouseholdRegistration: '户籍核查证明',
  arrangeSpecialPlacement: '残疾证明、安置材料',
  handOverRoster: '花名册、交接表扫描件',
  receiveRoster: '花名册、交接表扫描件',
  countersignHandover: '交接表扫描件',
  traceNoShowPupil: '去向证明',
  arrangeFollowUpCare: '帮扶记录',
  submitDropoutStatistics: '盖章的统计表',
  censusSpecialNeeds: '摸排台账',
};

export function attachmentLabel(elementId: string): string {
  return ATTACHMENT_LABELS[elementId] ?? '证明材料、照片';
}

/** The earlier steps' records of the task's case (none on its first step). */
export function PriorRecords({ ctx }: { ctx: TaskContext }) {
  if (!ctx.case) return null;
  return (
    <Card data-testid="prior-records">
      <CardContent>
        <Typography variant="subtitle2" color="text.secondary" gutterBottom>
          前序环节办理记录
        </Typography>
        <CaseRecords caseId={ctx.case.id} empty="本案尚无前序办理记录" />
      </CardContent>
    </Card>
  );
}

interface CampaignRow {
  id: number;
  processInstanceKey: string | null;
  year: number;
}
interface Progress {
  round: number;
  towns: { regionCode: string; name: string; suspects: number; pending: number }[];
  total: { suspects: number; pending: number };
}

/** The suspect list the bureau is about to send out: the total and per town, with the list to open. */
export function DispatchSummary({ ctx }: { ctx: TaskContext }) {
  const pik = ctx.task.processInstanceKey;
  const { data } = useQuery({
    queryKey: ['dispatch-summary', pik],
    queryFn: async () => {
      const list = await apiFetch<{ data: CampaignRow[] }>('/api/campaigns?perPage=100');
      const campaign = list.data.find((c) => c.processInstanceKey === pik);
      if (!campaign) return null;
      return { campaign, progress: await apiFetch<Progress>(`/api/campaigns/${campaign.id}/progress`) };
    },
  });
  if (ctx.task.elementId !== 'dispatchSuspectList' || !data) return null;
  const { campaign, progress } = data;
  return (
    <Card data-testid="dispatch-summary">
      <CardContent>
        <Typography variant="subtitle2" color="text.secondary">
          疑似未入学名单（{campaign.year}年，第 {Math.max(progress.round, 1)} 轮）
        </Typography>
        <Typography variant="h6" data-testid="dispatch-total">
          共 {progress.total.pending} 名疑似未入学儿童，涉及 {progress.towns.filter((t) => t.pending > 0).length} 个镇街
        </Typography>
        <Table size="small">
          <TableHead>
            <TableRow>
              <TableCell>镇街</TableCell>
              <TableCell align="right">待核实人数</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {progress.towns.map((t) => (
              <TableRow key={t.regionCode} data-testid="dispatch-town">
                <TableCell>{t.name}</TableCell>
                <TableCell align="right">{t.pending}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
        <Link to={`/campaigns/${campaign.id}/show`}>查看名单</Link>
      </CardContent>
    </Card>
  );
}
