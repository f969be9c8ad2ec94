/** Deploy and rollback ask why: a required comment, kept in the version history and the audit log. */
import { Alert, Button, Dialog, DialogActions, DialogContent, DialogTitle, TextField } from '@mui/material';
import { useState } from 'react';

export function CommentDialog({
  title,
  open,
  busy,
  error,
  onClose,
  onConfirm,
}: {
  title: string;
  open: boolean;
  busy: boolean;
  error?: string;
  onClose: () => void;
  onConfirm: (comment: string) => void;
}) {
  const [comment, setComment] = useState('');
  const tooShort = comment.trim().length < 4;
  return (
    <Dialog open={open} onClose={onClose} fullWidth maxWidth="sm" data-testid="comment-dialog">
      <DialogTitle>{title}</DialogTitle>
      <DialogContent>
        <TextField
          autoFocus
          fullWidth
          multiline
          minRows={3}
          name="comment"
          label="部署说明（必填）：为什么修改、依据哪一条"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          helperText={tooShort ? '至少 4 个字' : ' '}
          sx={{ mt: 1 }}
        />
        {error && (
          <Alert severity="error" sx={{ mt: 1 }} data-testid="deploy-error">
            {error}
          </Alert>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onClose}>取消</Button>
        <Button
          variant="contained"
          disabled={tooShort || busy}
          onClick={() => onConfirm(comment.trim())}
          data-testid="confirm-deploy"
        >
          确认部署
        </Button>
      </DialogActions>
    </Dialog>
  );
}
