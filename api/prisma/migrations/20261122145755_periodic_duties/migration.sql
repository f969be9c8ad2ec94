-- CreateEnum
CREATE TYPE "Duty" AS ENUM ('DROPOUT_STATISTICS', 'SPECIAL_NEEDS_CENSUS', 'HOME_VISITS');

-- CreateTable
CREATE TABLE "DutyReturn" (
    "id" SERIAL NOT NULL,
    "duty" "Duty" NOT NULL,
    "period" TEXT NOT NULL,
    "regionCode" TEXT NOT NULL,
    "schoolId" INTEGER,
    "classId" INTEGER,
    "figures" JSONB NOT NULL,
    "submittedBy" INTEGER,
    "submittedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "idempotencyKey" TEXT NOT NULL,

    CONSTRAINT "DutyReturn_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "DutyReturn_idempotencyKey_key" ON "DutyReturn"("idempotencyKey");

-- CreateIndex
CREATE INDEX "DutyReturn_duty_period_regionCode_idx" ON "DutyReturn"("duty", "period", "regionCode");
