/** Every job worker, registered in one place. A job type in a diagram without a worker here fails a test. */
import checkDepartmentLists from './check-department-lists/index.js';
import listRoundSuspects from './list-round-suspects/index.js';
import closeVerificationRound from './close-verification-round/index.js';
import openNextRound from './open-next-round/index.js';
import compileCountyReport from './compile-county-report/index.js';
import recordDeferralLapsed from './record-deferral-lapsed/index.js';
import placeSpecialEducation from './place-special-education/index.js';
import closeDutyRound from './close-duty-round/index.js';
import openDutyRound from './open-duty-round/index.js';
import closeDropoutCase from './close-dropout-case/index.js';
import compareBaseWithRegistry from './compare-base-with-registry/index.js';
import clearGraduateList from './clear-graduate-list/index.js';
import draftHandoverPlan from './draft-handover-plan/index.js';
import fileHandoverForm from './file-handover-form/index.js';
import issueCaseDocument from './issue-case-document/index.js';
import type { WorkerDefinition } from './lib/define-worker.js';
import listHandoverClasses from './list-handover-classes/index.js';
import matchRegistryRecords from './match-registry-records/index.js';
import notifyOtherCounty from './notify-other-county/index.js';
import openDropoutCase from './open-dropout-case/index.js';
import recordChildReturn from './record-child-return/index.js';
import recordEscalation from './record-escalation/index.js';
import referToDropoutEscalation from './refer-to-dropout-escalation/index.js';
import reportArrivals from './report-arrivals/index.js';
import sendSchoolReport from './send-school-report/index.js';

export const workers: WorkerDefinition[] = [
  // 辍学劝返
  openDropoutCase,
  sendSchoolReport,
  recordEscalation,
  issueCaseDocument,
  recordChildReturn,
  closeDropoutCase,
  // 入学核查
  checkDepartmentLists,
  compareBaseWithRegistry,
  listRoundSuspects,
  closeVerificationRound,
  openNextRound,
  compileCountyReport,
  recordDeferralLapsed,
  placeSpecialEducation,
  // 整班移交
  draftHandoverPlan,
  listHandoverClasses,
  fileHandoverForm,
  matchRegistryRecords,
  reportArrivals,
  notifyOtherCounty,
  clearGraduateList,
  // 定期职责
  openDutyRound,
  closeDutyRound,
  // 跨流程
  referToDropoutEscalation,
] as WorkerDefinition[];
