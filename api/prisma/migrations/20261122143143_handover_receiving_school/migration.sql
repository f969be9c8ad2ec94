-- AddForeignKey
ALTER TABLE "HandoverAssignment" ADD CONSTRAINT "HandoverAssignment_toSchoolId_fkey" FOREIGN KEY ("toSchoolId") REFERENCES "School"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
