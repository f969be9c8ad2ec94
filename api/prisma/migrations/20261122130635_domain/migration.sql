-- CreateEnum
CREATE TYPE "RegionLevel" AS ENUM ('PROVINCE', 'CITY', 'COUNTY', 'TOWN', 'VILLAGE');

-- CreateEnum
CREATE TYPE "SchoolKind" AS ENUM ('PRIMARY', 'MIDDLE', 'NINE_YEAR', 'SPECIAL');

-- CreateEnum
CREATE TYPE "SchoolOwnership" AS ENUM ('PUBLIC', 'PRIVATE');

-- CreateEnum
CREATE TYPE "Gender" AS ENUM ('MALE', 'FEMALE');

-- CreateEnum
CREATE TYPE "VulnerabilityFlag" AS ENUM ('REGISTERED_POOR', 'DISABLED', 'ORPHAN', 'NO_CAREGIVER', 'IN_DIFFICULTY', 'LEFT_BEHIND', 'SINGLE_PARENT', 'MIGRANT', 'PRISONER_CHILD', 'LEARNING_DIFFICULTY');

-- CreateEnum
CREATE TYPE "RegistryStatus" AS ENUM ('ENROLLED', 'TRANSFERRED', 'SUSPENDED', 'DROPPED_OUT', 'GRADUATED');

-- CreateEnum
CREATE TYPE "RegistryChangeKind" AS ENUM ('ENROL', 'TRANSFER', 'SUSPEND', 'RESUME', 'DROPOUT', 'GRADUATE');

-- CreateEnum
CREATE TYPE "ImportKind" AS ENUM ('HOUSEHOLD', 'POVERTY', 'DISABILITY', 'WELFARE', 'REGISTRY');

-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('COLLECTING', 'COMPARING', 'VERIFYING', 'REPORTED');

-- CreateEnum
CREATE TYPE "CodeKind" AS ENUM ('OUTCOME', 'REGISTRY_REASON');

-- CreateEnum
CREATE TYPE "RegistrationFix" AS ENUM ('REGISTERED', 'NOT_REGISTERED', 'NOT_FOUND');

-- CreateEnum
CREATE TYPE "CaseOutcome" AS ENUM ('RETURNED', 'TRANSFER_FOUND', 'DEFERRED', 'HOME_TEACHING', 'UNFOUNDED', 'REFERRED');

-- CreateEnum
CREATE TYPE "DocumentKind" AS ENUM ('CORRECTION_ORDER', 'URGE_ENROLLMENT', 'JUDICIAL_NOTICE');

-- CreateEnum
CREATE TYPE "HandoverStatus" AS ENUM ('PLANNING', 'APPROVED', 'HANDED_OVER', 'REGISTERING', 'TRACING', 'CLEARED');

-- CreateEnum
CREATE TYPE "HandoverPupilStatus" AS ENUM ('PENDING', 'REGISTERED', 'NO_SHOW', 'TRANSFER_FOUND', 'MOVED', 'OTHER_COUNTY', 'DROPOUT');

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('TEACHER', 'SCHOOL', 'TOWN', 'BUREAU', 'JUSTICE', 'POLICE', 'POLICY', 'SUPERVISOR', 'ADMIN');

-- CreateEnum
CREATE TYPE "AuditAction" AS ENUM ('READ_PERSONAL', 'CREATE', 'UPDATE', 'IMPORT', 'EXPORT', 'LOGIN', 'LOGIN_FAILED', 'LOGOUT', 'TASK_COMPLETE');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "CaseStatus" ADD VALUE 'TOWN_ORDERED';
ALTER TYPE "CaseStatus" ADD VALUE 'URGED';
ALTER TYPE "CaseStatus" ADD VALUE 'LEGAL_NOTICE';
ALTER TYPE "CaseStatus" ADD VALUE 'REFERRED';

-- AlterTable
ALTER TABLE "CaseAction" ADD COLUMN     "actorUserId" INTEGER,
ADD COLUMN     "occurredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "outcome" TEXT;

-- AlterTable
ALTER TABLE "DropoutCase" DROP COLUMN "childName",
DROP COLUMN "schoolName",
ADD COLUMN     "childId" UUID NOT NULL,
ADD COLUMN     "classId" INTEGER,
ADD COLUMN     "closedAt" TIMESTAMPTZ(3),
ADD COLUMN     "lastAttendance" DATE,
ADD COLUMN     "outcome" "CaseOutcome",
ADD COLUMN     "plan" TEXT,
ADD COLUMN     "reasonCode" TEXT,
ADD COLUMN     "regionCode" TEXT NOT NULL,
ADD COLUMN     "responsiblePerson" TEXT,
ADD COLUMN     "schoolId" INTEGER NOT NULL,
DROP COLUMN "reportedBy",
ADD COLUMN     "reportedBy" INTEGER;

-- CreateTable
CREATE TABLE "Region" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "level" "RegionLevel" NOT NULL,
    "parentId" INTEGER,
    "educationOffice" TEXT,

    CONSTRAINT "Region_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "School" (
    "id" SERIAL NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "SchoolKind" NOT NULL,
    "ownership" "SchoolOwnership" NOT NULL DEFAULT 'PUBLIC',
    "regionId" INTEGER NOT NULL,
    "regionCode" TEXT NOT NULL,
    "address" TEXT,
    "principal" TEXT,
    "phone" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "School_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SchoolClass" (
    "id" SERIAL NOT NULL,
    "schoolId" INTEGER NOT NULL,
    "schoolYear" INTEGER NOT NULL,
    "grade" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "headTeacher" TEXT,
    "regionCode" TEXT NOT NULL,

    CONSTRAINT "SchoolClass_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Child" (
    "id" UUID NOT NULL,
    "idNumber" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "gender" "Gender" NOT NULL,
    "birthDate" DATE NOT NULL,
    "studentNumber" TEXT,
    "householdRegionId" INTEGER,
    "householdAddress" TEXT,
    "residenceAddress" TEXT,
    "regionCode" TEXT NOT NULL,
    "flags" "VulnerabilityFlag"[],
    "currentSchoolId" INTEGER,
    "currentClassId" INTEGER,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Child_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Guardian" (
    "id" SERIAL NOT NULL,
    "childId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "relation" TEXT NOT NULL,
    "phone" TEXT,

    CONSTRAINT "Guardian_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RegistryRecord" (
    "id" SERIAL NOT NULL,
    "childId" UUID NOT NULL,
    "schoolYear" INTEGER NOT NULL,
    "schoolId" INTEGER NOT NULL,
    "classId" INTEGER,
    "grade" INTEGER NOT NULL,
    "status" "RegistryStatus" NOT NULL DEFAULT 'ENROLLED',
    "regionCode" TEXT NOT NULL,
    "batchId" INTEGER,

    CONSTRAINT "RegistryRecord_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RegistryChange" (
    "id" SERIAL NOT NULL,
    "recordId" INTEGER NOT NULL,
    "kind" "RegistryChangeKind" NOT NULL,
    "date" DATE NOT NULL,
    "note" TEXT,

    CONSTRAINT "RegistryChange_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ImportBatch" (
    "id" SERIAL NOT NULL,
    "kind" "ImportKind" NOT NULL,
    "regionCode" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "fileName" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "rowCount" INTEGER NOT NULL,
    "importedBy" INTEGER,
    "importedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ImportBatch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DepartmentListEntry" (
    "id" SERIAL NOT NULL,
    "batchId" INTEGER NOT NULL,
    "lineNumber" INTEGER NOT NULL,
    "kind" "ImportKind" NOT NULL,
    "year" INTEGER NOT NULL,
    "childId" UUID NOT NULL,
    "regionCode" TEXT NOT NULL,
    "category" TEXT,

    CONSTRAINT "DepartmentListEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Campaign" (
    "id" SERIAL NOT NULL,
    "regionCode" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "status" "CampaignStatus" NOT NULL DEFAULT 'COLLECTING',
    "processInstanceKey" TEXT,
    "createdBy" INTEGER,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reportedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VerificationCode" (
    "code" TEXT NOT NULL,
    "kind" "CodeKind" NOT NULL,
    "label" TEXT NOT NULL,
    "clearsSuspicion" BOOLEAN NOT NULL,

    CONSTRAINT "VerificationCode_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "SuspectedChild" (
    "id" SERIAL NOT NULL,
    "campaignId" INTEGER NOT NULL,
    "childId" UUID NOT NULL,
    "regionCode" TEXT NOT NULL,
    "round" INTEGER NOT NULL DEFAULT 1,
    "outcomeCode" TEXT,
    "reasonCode" TEXT,
    "whereabouts" TEXT,
    "evidence" TEXT,
    "placement" TEXT,
    "registration" "RegistrationFix",
    "verifiedAt" TIMESTAMPTZ(3),
    "verifiedBy" INTEGER,

    CONSTRAINT "SuspectedChild_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CaseDocument" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "kind" "DocumentKind" NOT NULL,
    "number" TEXT NOT NULL,
    "issuedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deadline" DATE,
    "issuedBy" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,

    CONSTRAINT "CaseDocument_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DocumentCounter" (
    "kind" "DocumentKind" NOT NULL,
    "regionCode" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "last" INTEGER NOT NULL,

    CONSTRAINT "DocumentCounter_pkey" PRIMARY KEY ("kind","regionCode","year")
);

-- CreateTable
CREATE TABLE "HandoverBatch" (
    "id" SERIAL NOT NULL,
    "regionCode" TEXT NOT NULL,
    "year" INTEGER NOT NULL,
    "status" "HandoverStatus" NOT NULL DEFAULT 'PLANNING',
    "processInstanceKey" TEXT,
    "approvedAt" TIMESTAMPTZ(3),
    "clearedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "HandoverBatch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "HandoverAssignment" (
    "id" SERIAL NOT NULL,
    "batchId" INTEGER NOT NULL,
    "fromClassId" INTEGER NOT NULL,
    "toSchoolId" INTEGER NOT NULL,
    "regionCode" TEXT NOT NULL,
    "sendingSignedAt" TIMESTAMPTZ(3),
    "receivingSignedAt" TIMESTAMPTZ(3),
    "townSignedAt" TIMESTAMPTZ(3),
    "bureauSignedAt" TIMESTAMPTZ(3),

    CONSTRAINT "HandoverAssignment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "HandoverPupil" (
    "id" SERIAL NOT NULL,
    "assignmentId" INTEGER NOT NULL,
    "childId" UUID NOT NULL,
    "status" "HandoverPupilStatus" NOT NULL DEFAULT 'PENDING',
    "registeredAt" TIMESTAMPTZ(3),
    "recordMatched" BOOLEAN NOT NULL DEFAULT false,
    "traceNote" TEXT,

    CONSTRAINT "HandoverPupil_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "username" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "regionId" INTEGER NOT NULL,
    "regionCode" TEXT NOT NULL,
    "schoolId" INTEGER,
    "classId" INTEGER,
    "phone" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "failedLogins" INTEGER NOT NULL DEFAULT 0,
    "lockedUntil" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Session" (
    "tokenHash" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Session_pkey" PRIMARY KEY ("tokenHash")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "userId" INTEGER,
    "username" TEXT,
    "action" "AuditAction" NOT NULL,
    "entity" TEXT NOT NULL,
    "entityId" TEXT,
    "details" JSONB,
    "ip" TEXT,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Region_code_key" ON "Region"("code");

-- CreateIndex
CREATE INDEX "Region_parentId_idx" ON "Region"("parentId");

-- CreateIndex
CREATE INDEX "Region_level_code_idx" ON "Region"("level", "code");

-- CreateIndex
CREATE UNIQUE INDEX "School_code_key" ON "School"("code");

-- CreateIndex
CREATE INDEX "School_regionCode_idx" ON "School"("regionCode");

-- CreateIndex
CREATE INDEX "SchoolClass_regionCode_idx" ON "SchoolClass"("regionCode");

-- CreateIndex
CREATE UNIQUE INDEX "SchoolClass_schoolId_schoolYear_name_key" ON "SchoolClass"("schoolId", "schoolYear", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Child_idNumber_key" ON "Child"("idNumber");

-- CreateIndex
CREATE UNIQUE INDEX "Child_studentNumber_key" ON "Child"("studentNumber");

-- CreateIndex
CREATE INDEX "Child_regionCode_idx" ON "Child"("regionCode");

-- CreateIndex
CREATE INDEX "Child_currentSchoolId_idx" ON "Child"("currentSchoolId");

-- CreateIndex
CREATE INDEX "Child_currentClassId_idx" ON "Child"("currentClassId");

-- CreateIndex
CREATE INDEX "Child_name_idx" ON "Child"("name");

-- CreateIndex
CREATE INDEX "Guardian_childId_idx" ON "Guardian"("childId");

-- CreateIndex
CREATE INDEX "RegistryRecord_schoolId_schoolYear_idx" ON "RegistryRecord"("schoolId", "schoolYear");

-- CreateIndex
CREATE INDEX "RegistryRecord_regionCode_schoolYear_idx" ON "RegistryRecord"("regionCode", "schoolYear");

-- CreateIndex
CREATE UNIQUE INDEX "RegistryRecord_childId_schoolYear_key" ON "RegistryRecord"("childId", "schoolYear");

-- CreateIndex
CREATE INDEX "RegistryChange_recordId_idx" ON "RegistryChange"("recordId");

-- CreateIndex
CREATE INDEX "ImportBatch_regionCode_year_idx" ON "ImportBatch"("regionCode", "year");

-- CreateIndex
CREATE UNIQUE INDEX "ImportBatch_kind_regionCode_sha256_key" ON "ImportBatch"("kind", "regionCode", "sha256");

-- CreateIndex
CREATE INDEX "DepartmentListEntry_kind_year_regionCode_idx" ON "DepartmentListEntry"("kind", "year", "regionCode");

-- CreateIndex
CREATE INDEX "DepartmentListEntry_childId_idx" ON "DepartmentListEntry"("childId");

-- CreateIndex
CREATE UNIQUE INDEX "DepartmentListEntry_batchId_lineNumber_key" ON "DepartmentListEntry"("batchId", "lineNumber");

-- CreateIndex
CREATE UNIQUE INDEX "Campaign_processInstanceKey_key" ON "Campaign"("processInstanceKey");

-- CreateIndex
CREATE UNIQUE INDEX "Campaign_regionCode_year_key" ON "Campaign"("regionCode", "year");

-- CreateIndex
CREATE INDEX "SuspectedChild_campaignId_regionCode_idx" ON "SuspectedChild"("campaignId", "regionCode");

-- CreateIndex
CREATE UNIQUE INDEX "SuspectedChild_campaignId_childId_key" ON "SuspectedChild"("campaignId", "childId");

-- CreateIndex
CREATE UNIQUE INDEX "CaseDocument_number_key" ON "CaseDocument"("number");

-- CreateIndex
CREATE UNIQUE INDEX "CaseDocument_idempotencyKey_key" ON "CaseDocument"("idempotencyKey");

-- CreateIndex
CREATE INDEX "CaseDocument_caseId_idx" ON "CaseDocument"("caseId");

-- CreateIndex
CREATE UNIQUE INDEX "HandoverBatch_processInstanceKey_key" ON "HandoverBatch"("processInstanceKey");

-- CreateIndex
CREATE UNIQUE INDEX "HandoverBatch_regionCode_year_key" ON "HandoverBatch"("regionCode", "year");

-- CreateIndex
CREATE UNIQUE INDEX "HandoverAssignment_batchId_fromClassId_key" ON "HandoverAssignment"("batchId", "fromClassId");

-- CreateIndex
CREATE UNIQUE INDEX "HandoverPupil_assignmentId_childId_key" ON "HandoverPupil"("assignmentId", "childId");

-- CreateIndex
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");

-- CreateIndex
CREATE INDEX "User_regionCode_idx" ON "User"("regionCode");

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- CreateIndex
CREATE INDEX "AuditEvent_entity_entityId_idx" ON "AuditEvent"("entity", "entityId");

-- CreateIndex
CREATE INDEX "AuditEvent_userId_at_idx" ON "AuditEvent"("userId", "at");

-- CreateIndex
CREATE INDEX "DropoutCase_regionCode_status_idx" ON "DropoutCase"("regionCode", "status");

-- CreateIndex
CREATE INDEX "DropoutCase_childId_idx" ON "DropoutCase"("childId");

-- AddForeignKey
ALTER TABLE "Region" ADD CONSTRAINT "Region_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Region"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "School" ADD CONSTRAINT "School_regionId_fkey" FOREIGN KEY ("regionId") REFERENCES "Region"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SchoolClass" ADD CONSTRAINT "SchoolClass_schoolId_fkey" FOREIGN KEY ("schoolId") REFERENCES "School"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Guardian" ADD CONSTRAINT "Guardian_childId_fkey" FOREIGN KEY ("childId") REFERENCES "Child"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RegistryRecord" ADD CONSTRAINT "RegistryRecord_childId_fkey" FOREIGN KEY ("childId") REFERENCES "Child"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RegistryRecord" ADD CONSTRAINT "RegistryRecord_schoolId_fkey" FOREIGN KEY ("schoolId") REFERENCES "School"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RegistryRecord" ADD CONSTRAINT "RegistryRecord_classId_fkey" FOREIGN KEY ("classId") REFERENCES "SchoolClass"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RegistryRecord" ADD CONSTRAINT "RegistryRecord_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "ImportBatch"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RegistryChange" ADD CONSTRAINT "RegistryChange_recordId_fkey" FOREIGN KEY ("recordId") REFERENCES "RegistryRecord"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ImportBatch" ADD CONSTRAINT "ImportBatch_importedBy_fkey" FOREIGN KEY ("importedBy") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DepartmentListEntry" ADD CONSTRAINT "DepartmentListEntry_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "ImportBatch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DepartmentListEntry" ADD CONSTRAINT "DepartmentListEntry_childId_fkey" FOREIGN KEY ("childId") REFERENCES "Child"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SuspectedChild" ADD CONSTRAINT "SuspectedChild_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SuspectedChild" ADD CONSTRAINT "SuspectedChild_childId_fkey" FOREIGN KEY ("childId") REFERENCES "Child"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SuspectedChild" ADD CONSTRAINT "SuspectedChild_outcomeCode_fkey" FOREIGN KEY ("outcomeCode") REFERENCES "VerificationCode"("code") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SuspectedChild" ADD CONSTRAINT "SuspectedChild_reasonCode_fkey" FOREIGN KEY ("reasonCode") REFERENCES "VerificationCode"("code") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DropoutCase" ADD CONSTRAINT "DropoutCase_childId_fkey" FOREIGN KEY ("childId") REFERENCES "Child"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DropoutCase" ADD CONSTRAINT "DropoutCase_schoolId_fkey" FOREIGN KEY ("schoolId") REFERENCES "School"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CaseDocument" ADD CONSTRAINT "CaseDocument_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "DropoutCase"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HandoverAssignment" ADD CONSTRAINT "HandoverAssignment_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "HandoverBatch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HandoverAssignment" ADD CONSTRAINT "HandoverAssignment_fromClassId_fkey" FOREIGN KEY ("fromClassId") REFERENCES "SchoolClass"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HandoverPupil" ADD CONSTRAINT "HandoverPupil_assignmentId_fkey" FOREIGN KEY ("assignmentId") REFERENCES "HandoverAssignment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HandoverPupil" ADD CONSTRAINT "HandoverPupil_childId_fkey" FOREIGN KEY ("childId") REFERENCES "Child"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_regionId_fkey" FOREIGN KEY ("regionId") REFERENCES "Region"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_schoolId_fkey" FOREIGN KEY ("schoolId") REFERENCES "School"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_classId_fkey" FOREIGN KEY ("classId") REFERENCES "SchoolClass"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Code table of verification outcomes and registry reasons, as the 2020 district self-inspection
-- report ([R]) uses them. Further codes are added as rows (J/K are not in the sources).
INSERT INTO "VerificationCode" ("code", "kind", "label", "clearsSuspicion") VALUES
  ('A', 'OUTCOME', '户籍原因（重复、死亡、迁出）', true),
  ('B', 'OUTCOME', '在校有学籍', true),
  ('C', 'OUTCOME', '省内就读无学籍', true),
  ('D', 'OUTCOME', '省外就读无学籍', true),
  ('E', 'OUTCOME', '延缓入学', true),
  ('F', 'OUTCOME', '超龄离校', true),
  ('G', 'OUTCOME', '失踪失联', true),
  ('H', 'OUTCOME', '出国在外', true),
  ('I', 'OUTCOME', '因病因残', false),
  ('L', 'OUTCOME', '在家上学', false),
  ('A2', 'REGISTRY_REASON', '厌学辍学', false),
  ('A3', 'REGISTRY_REASON', '因病因残', false),
  ('A4', 'REGISTRY_REASON', '在家上学', false),
  ('A8', 'REGISTRY_REASON', '其他原因（出国、去世、超龄离校等）', true),
  ('B2', 'REGISTRY_REASON', '在校有学籍', true);

-- The audit log is append-only: nobody, not even the application, may rewrite or erase it.
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'AuditEvent is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON "AuditEvent"
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON "AuditEvent"
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
