/** 登录: the sign-in page names the product and who it is for. */
import { Box, Typography } from '@mui/material';
import { Login, LoginForm } from 'react-admin';

export const PRODUCT_NAME = '控辍保学工作平台';

export function LoginPage() {
  return (
    <Login>
      <Box sx={{ textAlign: 'center', px: 2, pt: 1 }} data-testid="product-name">
        <Typography variant="h5" component="h1">
          {PRODUCT_NAME}
        </Typography>
        <Typography variant="body2" color="text.secondary">
          义务教育控辍保学 · 入学核查 · 小升初整班移交
        </Typography>
        <Typography variant="caption" color="text.secondary">
          县教育局、学校、镇街、司法局协同办理
        </Typography>
      </Box>
      <LoginForm />
    </Login>
  );
}
