-- AlterEnum
ALTER TYPE "DocumentKind" ADD VALUE 'SCHOOL_REPORT';

-- AlterTable
ALTER TABLE "Campaign" ADD COLUMN     "reportSnapshot" JSONB;

-- AlterTable
ALTER TABLE "HandoverAssignment" ADD COLUMN     "formHtml" TEXT;

-- AlterTable
ALTER TABLE "SuspectedChild" ADD COLUMN     "policeFeedback" TEXT;
