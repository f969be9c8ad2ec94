-- AlterTable
ALTER TABLE "TaskSubmission" ADD COLUMN     "callerInstanceKeys" TEXT[] DEFAULT ARRAY[]::TEXT[];
