-- AlterTable
ALTER TABLE "CaseDocument" ADD COLUMN     "html" TEXT;
