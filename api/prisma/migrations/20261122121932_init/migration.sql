-- CreateEnum
CREATE TYPE "CaseStatus" AS ENUM ('OPEN', 'SCHOOL_CONFIRMED', 'RETURNED', 'CLOSED');

-- CreateTable
CREATE TABLE "DropoutCase" (
    "id" UUID NOT NULL,
    "serial" SERIAL NOT NULL,
    "childName" TEXT NOT NULL,
    "schoolName" TEXT NOT NULL,
    "reportedBy" TEXT NOT NULL,
    "reason" TEXT,
    "status" "CaseStatus" NOT NULL DEFAULT 'OPEN',
    "processInstanceKey" TEXT NOT NULL,
    "openedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DropoutCase_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CaseAction" (
    "id" UUID NOT NULL,
    "caseId" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "note" TEXT,
    "idempotencyKey" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CaseAction_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DropoutCase_serial_key" ON "DropoutCase"("serial");

-- CreateIndex
CREATE UNIQUE INDEX "DropoutCase_processInstanceKey_key" ON "DropoutCase"("processInstanceKey");

-- CreateIndex
CREATE UNIQUE INDEX "CaseAction_idempotencyKey_key" ON "CaseAction"("idempotencyKey");

-- CreateIndex
CREATE INDEX "CaseAction_caseId_createdAt_idx" ON "CaseAction"("caseId", "createdAt");

-- AddForeignKey
ALTER TABLE "CaseAction" ADD CONSTRAINT "CaseAction_caseId_fkey" FOREIGN KEY ("caseId") REFERENCES "DropoutCase"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
