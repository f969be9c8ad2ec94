-- CreateEnum
CREATE TYPE "SubmissionStatus" AS ENUM ('PENDING', 'DONE');

-- CreateTable
CREATE TABLE "TaskSubmission" (
    "userTaskKey" TEXT NOT NULL,
    "elementId" TEXT NOT NULL,
    "processInstanceKey" TEXT NOT NULL,
    "userId" INTEGER NOT NULL,
    "input" JSONB NOT NULL,
    "ip" TEXT,
    "status" "SubmissionStatus" NOT NULL DEFAULT 'PENDING',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "doneAt" TIMESTAMPTZ(3),

    CONSTRAINT "TaskSubmission_pkey" PRIMARY KEY ("userTaskKey")
);

-- CreateIndex
CREATE INDEX "TaskSubmission_status_createdAt_idx" ON "TaskSubmission"("status", "createdAt");
