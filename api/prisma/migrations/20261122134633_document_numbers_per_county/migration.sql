-- DropIndex
DROP INDEX "CaseDocument_number_key";

-- AlterTable
ALTER TABLE "CaseDocument" ADD COLUMN     "regionCode" TEXT NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "CaseDocument_regionCode_number_key" ON "CaseDocument"("regionCode", "number");
